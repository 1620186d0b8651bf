using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Audit;

/// <summary>What a database writer without the chain key can do to the trail, and how each shows: written once and run
/// against each store. The attacker works in SQL; the auditor looks through /audit/api/verify, the list and the export.</summary>
public static class TamperEvidenceScenarios
{
    private static JsonObject Coapt(string id) => Requests.PatientView(id, new Chart(id)
        .Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt()
        .Prefetch(Terminology.Terminology.Embedded));

    private static async Task Calls(ServiceFactory service, params string[] patients)
    {
        foreach (var patient in patients)
        {
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt(patient))).Status);
        }
    }

    /// <summary>The auditor's full walk: a check that resumes where the last one stopped does not re-read events it proved
    /// before they were tampered with (IncrementalVerificationScenarios shows what it does see).</summary>
    private static async Task<JsonNode> Verify(ServiceFactory service) => await service.AuditApi("/audit/api/verify?full=true");

    private static async Task<JsonNode> AssertBroken(ServiceFactory service, params string[] saying)
    {
        var report = await Verify(service);
        Assert.False((bool)report["intact"]!, report.ToJsonString());
        foreach (var words in saying)
        {
            Assert.Contains(words, (string?)report["problem"] ?? "", StringComparison.Ordinal);
        }
        return report;
    }

    /// <summary>The key ids this report names, which the docs define as the first 8 bytes of SHA-256 of the key, in hex.</summary>
    private static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key)[..8]);

    private static List<string> KeyIds(JsonNode report) => report["keyIds"]?.AsArray().Select(k => (string)k!).ToList() ?? [];

    public static async Task AForgedPatientIdInTheIndexIsNotShownAsIntact(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await Calls(service, "p0", "p1", "p2");
        Assert.True((bool)(await Verify(service))["intact"]!);

        await AuditScenarios.Sql(service, "UPDATE invocations SET patient_id = 'forged-999' WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)");

        var report = await AssertBroken(service, "patient id");
        Assert.Equal(2, (long)report["firstBrokenSeq"]!);
        // The list, its filter and the export show what the chained record says, and that the index disagrees.
        var found = Assert.Single((await service.AuditApi("/audit/api/invocations?patient=forged-999"))["items"]!.AsArray())!;
        Assert.Equal("p1", (string?)found["patientId"]);
        Assert.Contains("patient id", (string?)found["problem"] ?? "", StringComparison.Ordinal);
        using var auditor = service.AuditorClient();
        Assert.DoesNotContain("forged-999", await auditor.GetStringAsync("/audit/export.csv"), StringComparison.Ordinal);
        var page = await auditor.GetStringAsync("/audit");
        Assert.DoesNotContain("Chain intact", page, StringComparison.Ordinal);
        Assert.DoesNotContain("forged-999", page, StringComparison.Ordinal);
    }

    /// <summary>Each forgery of the index tables alone: verification reads them against the chained documents.</summary>
    public static async Task EveryForgeryOfTheIndexIsFound(Store store)
    {
        var forgeries = new (string Sql, string Shows)[]
        {
            ("UPDATE invocations SET status = 500 WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)", "status"),
            ("UPDATE invocations SET rule_ids = ',smr-outside-range,' WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)", "rules"),
            ("DELETE FROM invocations WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)", "no index row"),
            ("UPDATE cards SET rule_id = 'smr-gdmt-gap' WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)", "card index rows"),
            // The foreign key to the events is the writer's to switch off.
            ((store == Store.Sqlite ? "PRAGMA foreign_keys=OFF; " : "ALTER TABLE invocations DROP CONSTRAINT invocations_event_id_fkey; ") +
             "INSERT INTO invocations (event_id, at, service_id, patient_id, status, rule_ids, indicators) VALUES ('no-such-event', '2026-11-21T12:00:00.0000000Z', 'x', 'ghost', 200, ',', ',')", "belong to no event"),
        };
        foreach (var (sql, shows) in forgeries)
        {
            await using var service = new ServiceFactory().Audited(store);
            await Calls(service, "p0", "p1", "p2");
            await AuditScenarios.Sql(service, sql);
            await AssertBroken(service, shows);
        }
    }

    /// <summary>The attack an unkeyed chain could not see: rewrite a document and recompute every hash after it.</summary>
    public static async Task ARewrittenDocumentWithRecomputedHashesIsFound(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await Calls(service, "p0", "p1", "p2", "p3", "p4");
        await AuditScenarios.Sql(service, "UPDATE audit_events SET document = replace(document, 'consider Heart Valve Team', 'no need for') WHERE seq = 3");
        await RehashUnkeyed(service, fromSeq: 3, markUnkeyed: false);
        var report = await AssertBroken(service, "altered");
        Assert.Equal(3, (long)report["firstBrokenSeq"]!);
        // The event's own page says its record is not vouched for; the list shows it with the problem.
        var item = Assert.Single((await service.AuditApi("/audit/api/invocations?patient=p2"))["items"]!.AsArray())!;
        Assert.Contains("altered", (string?)item["problem"] ?? "", StringComparison.Ordinal);
        using (var auditor = service.AuditorClient())
        {
            Assert.Contains("NOT VERIFIED", await auditor.GetStringAsync($"/audit/invocations/{item["eventId"]}"), StringComparison.Ordinal);
        }

        // Marking the rewritten events as written before keying does not help.
        await RehashUnkeyed(service, fromSeq: 3, markUnkeyed: true);
        report = await AssertBroken(service, "unkeyed but follows keyed events");
        Assert.Equal(3, (long)report["firstBrokenSeq"]!);

        // Nor does rewriting the whole chain as unkeyed: it is reported as legacy, unkeyed, never as keyed.
        await RehashUnkeyed(service, fromSeq: 1, markUnkeyed: true);
        report = await Verify(service);
        Assert.Equal(5, (long)report["legacyEvents"]!);
        Assert.Empty(KeyIds(report));
        Assert.Contains("legacy, unkeyed", (string?)report["note"] ?? (string?)report["problem"] ?? "", StringComparison.Ordinal);
    }

    /// <summary>A chain written before this change (no key ids, plain SHA-256) verifies, and is called legacy, unkeyed;
    /// what is appended after it is keyed.</summary>
    public static async Task AChainWrittenBeforeKeyingVerifiesAsLegacyUnkeyedAndSaysSo(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await Calls(service, "p0", "p1", "p2");
        await RehashUnkeyed(service, fromSeq: 1, markUnkeyed: true); // as the code before keying wrote it

        var legacy = await Verify(service);
        Assert.True((bool)legacy["intact"]!, legacy.ToJsonString());
        Assert.Equal(3, (long)legacy["legacyEvents"]!);
        Assert.Empty(KeyIds(legacy));
        Assert.Contains("3 legacy, unkeyed", (string)legacy["note"]!, StringComparison.Ordinal);

        await Calls(service, "p3");
        var mixed = await Verify(service);
        Assert.True((bool)mixed["intact"]!, mixed.ToJsonString());
        Assert.Equal(3, (long)mixed["legacyEvents"]!);
        var keyFile = Path.Combine(service.DataDirectory, "audit-chain.key"); // made for the tests on first start
        var key = Convert.FromBase64String(File.ReadLines(store == Store.Sqlite ? keyFile : KeyFileOf(service)).First());
        Assert.Equal([KeyId(key)], KeyIds(mixed));
        using var auditor = service.AuditorClient();
        Assert.Contains("legacy, unkeyed", await auditor.GetStringAsync("/audit?verify=now"), StringComparison.Ordinal);
    }

    /// <summary>Newest events deleted and the head row rewritten to match: only the checkpoint outside the database knows.</summary>
    public static async Task ACutTailIsFoundThroughTheCheckpoint(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Audit:CheckpointInterval", "00:00:00.2");
        await Calls(service, "p0", "p1", "p2", "p3", "p4", "p5");
        await WaitForCheckpoint(Path.Combine(service.DataDirectory, "audit-checkpoints.ndjson"), 6);
        Assert.True((bool)(await Verify(service))["intact"]!);

        await AuditScenarios.Sql(service,
            "DELETE FROM cards WHERE event_id IN (SELECT id FROM audit_events WHERE seq > 4); " +
            "DELETE FROM invocations WHERE event_id IN (SELECT id FROM audit_events WHERE seq > 4); " +
            "DELETE FROM audit_events WHERE seq > 4; " +
            "UPDATE chain_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4) WHERE id = 1");
        var report = await AssertBroken(service, "the chain ends at seq 4", "says 6");
        Assert.Equal(5, (long)report["firstBrokenSeq"]!);

        // The service goes on appending from the cut head; the chain still does not reach the checkpoint's event.
        await Calls(service, "p6");
        await AssertBroken(service, "the chain ends at seq 5", "says 6");
    }

    /// <summary>The head is checkpointed when the service stops, so a tail cut while it was down shows at the next start.</summary>
    public static async Task ATailCutWhileTheServiceWasDownIsFound()
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-tamper-").FullName;
        await using (var before = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Audit:ConnectionString", Path.Combine(folder, "audit.db")))
        {
            await Calls(before, "p0", "p1", "p2");
        }
        var line = Assert.Single(File.ReadAllLines(Path.Combine(folder, "audit-checkpoints.ndjson")), l => l.Length > 0);
        Assert.Equal(3, (long)JsonNode.Parse(line)!["seq"]!);

        await using var after = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Audit:ConnectionString", Path.Combine(folder, "audit.db"));
        Assert.True((bool)(await Verify(after))["intact"]!);
        await AuditScenarios.Sql(after,
            "DELETE FROM cards WHERE event_id IN (SELECT id FROM audit_events WHERE seq = 3); DELETE FROM invocations WHERE event_id IN (SELECT id FROM audit_events WHERE seq = 3); " +
            "DELETE FROM audit_events WHERE seq = 3; UPDATE chain_head SET seq = 2, hash = (SELECT hash FROM audit_events WHERE seq = 2) WHERE id = 1");
        await AssertBroken(after, "the chain ends at seq 2", "says 3");
    }

    /// <summary>Rotation as docs/audit.md describes it: a new key becomes current, the old one stays listed, and what the
    /// old one signed still verifies; without it listed, those records cannot be verified and the report says why.</summary>
    public static async Task RecordsUnderARetiredKeyStillVerifyAfterANewKeyIsCurrent(Store store)
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-rotation-").FullName;
        var schema = store == Store.Postgres ? AuditSupport.NewSchema() : null;
        var (old, current) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        ServiceFactory Service()
        {
            var factory = new ServiceFactory().Audited(store, schema).Without("CdsMitral:Audit:ChainKeyFile")
                .With("CdsMitral:Audit:CheckpointPath", Path.Combine(folder, "audit-checkpoints.ndjson"));
            return store == Store.Sqlite ? factory.With("CdsMitral:Audit:ConnectionString", Path.Combine(folder, "audit.db")) : factory;
        }

        await using (var first = Service().With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(old)))
        {
            await Calls(first, "p0", "p1");
            Assert.Equal([KeyId(old)], KeyIds(await Verify(first)));
        }
        await using (var rotated = Service().With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(current))
            .With($"CdsMitral:Audit:ChainKeys:{KeyId(old)}", Convert.ToBase64String(old)))
        {
            await Calls(rotated, "p2");
            var report = await Verify(rotated);
            Assert.True((bool)report["intact"]!, report.ToJsonString());
            Assert.Equal(3, (long)report["events"]!);
            Assert.Equal(new[] { KeyId(old), KeyId(current) }.Order(StringComparer.Ordinal), KeyIds(report));
        }
        // The same with a key file: the current key first, the retired one after it.
        var keyFile = Path.Combine(folder, "chain.keys");
        await File.WriteAllTextAsync(keyFile, $"{Convert.ToBase64String(current)}\n{Convert.ToBase64String(old)}\n");
        await using (var fromFile = Service().With("CdsMitral:Audit:ChainKeyFile", keyFile))
        {
            Assert.True((bool)(await Verify(fromFile))["intact"]!);
        }
        await using var forgotten = Service().With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(current));
        var without = await AssertBroken(forgotten, $"chain key {KeyId(old)}", "ChainKeys");
        Assert.Equal(1, (long)without["firstBrokenSeq"]!);
    }

    /// <summary>Verifying while calls are appended: each walk sees one moment of the chain, never a break that is not there.</summary>
    public static async Task VerifyingDuringLoadReportsNoFalseBreak(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Callers:PermitLimit", "100000");
        await Calls(service, "p0");
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt($"w{w}-{i}"))).Status);
            }
        })));
        var reports = new List<JsonNode>();
        for (var i = 0; i < 30; i++)
        {
            reports.Add(await Verify(service));
        }
        await stop.CancelAsync();
        await load;
        Assert.All(reports, r => Assert.True((bool)r["intact"]!, r.ToJsonString()));
        Assert.True((long)reports[^1]["events"]! > (long)reports[0]["events"]!); // the chain did grow meanwhile
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>What a writer without the key can do: recompute the plain SHA-256 chain from an event on, optionally
    /// marking those events as written before keying, and move the head row to match.</summary>
    private static async Task RehashUnkeyed(ServiceFactory service, long fromSeq, bool markUnkeyed)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        var rows = new List<(long Seq, string Id, string Kind, string At, string Doc, string Prev)>();
        await using (var read = AuditDatabase.Command(connection, null, "SELECT seq, id, kind, at, document, prev_hash FROM audit_events ORDER BY seq"))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
            }
        }
        string? prev = null;
        foreach (var r in rows.Where(r => r.Seq >= fromSeq))
        {
            prev ??= r.Prev;
            var hash = AuditStore.Hash(prev, r.Seq, r.Id, r.Kind, r.At, r.Doc);
            await AuditDatabase.Execute(connection, null,
                markUnkeyed ? "UPDATE audit_events SET prev_hash = @p, hash = @h, key_id = NULL WHERE seq = @s" : "UPDATE audit_events SET prev_hash = @p, hash = @h WHERE seq = @s",
                CancellationToken.None, ("p", prev), ("h", hash), ("s", r.Seq));
            prev = hash;
        }
        await AuditDatabase.Execute(connection, null, "UPDATE chain_head SET hash = @h WHERE id = 1", CancellationToken.None, ("h", prev));
    }

    private static string KeyFileOf(ServiceFactory service) =>
        service.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["CdsMitral:Audit:ChainKeyFile"]!;

    private static async Task WaitForCheckpoint(string file, long seq)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(file) && File.ReadAllLines(file).Any(l => l.StartsWith('{') && (long?)JsonNode.Parse(l)?["seq"] == seq))
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"no checkpoint of seq {seq} in {file} after 10 s");
    }
}
