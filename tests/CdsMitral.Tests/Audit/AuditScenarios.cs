using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Audit;

/// <summary>What an auditor must be able to rely on, written once and run against each store.</summary>
public static class AuditScenarios
{
    private static Chart Coapt(string id = "p1") => new Chart(id)
        .Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();

    public static JsonObject CoaptRequest(string id = "p1") => Requests.PatientView(id, Coapt(id).Prefetch(Terminology.Terminology.Embedded));

    public static async Task Sql(ServiceFactory factory, string sql)
    {
        // An edit of the index tables needs the rows of the calls answered so far in them (SQLite writes them after the answers).
        await (factory.Services.GetRequiredService<AuditStore>().IndexCatchUp?.Invoke(CancellationToken.None) ?? Task.CompletedTask);
        var db = factory.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await AuditDatabase.Execute(connection, null, sql, CancellationToken.None);
    }

    public static async Task EveryHookCallLeavesOneRecordWithItsEvidence(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var request = CoaptRequest();
        request["hookInstance"] = "audit-me-1";
        var answer = await service.PostAsync(Requests.PatientViewId, request);
        Assert.Equal(200, answer.Status);

        var list = await service.AuditApi("/audit/api/invocations?patient=p1");
        var item = Assert.Single(list["items"]!.AsArray())!;
        Assert.Equal("audit-me-1", (string?)item["hookInstance"]);
        Assert.Equal(200, (int)item["status"]!);
        Assert.Equal(["smr-coapt-profile"], item["ruleIds"]!.AsArray().Select(r => (string)r!));

        var detail = await service.AuditApi($"/audit/api/invocations/{item["eventId"]}");
        var record = detail["record"]!;
        Assert.Equal(TestEhr.Default.Issuer, (string?)record["client"]!["issuer"]);
        Assert.False(string.IsNullOrEmpty((string?)record["client"]!["jti"]));
        Assert.Equal("Practitioner/example", (string?)record["userId"]);
        Assert.Equal(CdsMitral.Hooks.CdsServices.All(Terminology.Terminology.Embedded)[0].Prefetch.Count, record["prefetch"]!.AsArray().Count);
        Assert.Equal("Observation/p1-obs-2", (string?)record["snapshot"]!["lvef"]!["source"]);
        Assert.Equal(Rules.SecondaryMrRules.All.Count, record["rules"]!.AsArray().Count);
        Assert.Equal((string?)answer.Cards[0]["uuid"], (string?)record["cards"]![0]!["uuid"]);
        Assert.Equal(Rules.SecondaryMrRules.RuleSetVersion, (string?)record["ruleSetVersion"]);
        // Each rule's outcome carries the criteria it was judged on, the same results that decided whether it fired.
        var coapt = record["rules"]!.AsArray().Single(r => (string?)r!["ruleId"] == "smr-coapt-profile")!;
        Assert.All(coapt["criteria"]!.AsArray(), c => Assert.Equal("Met", (string?)c!["verdict"]));
        Assert.True((double)record["timings"]!["totalMs"]! > 0);
        Assert.Equal(64, ((string)detail["hash"]!).Length);

        // The card's uuid, as an EHR's log gives it, finds the call that showed it, and only that one.
        await service.PostAsync(Requests.PatientViewId, CoaptRequest());
        var byCard = (await service.AuditApi($"/audit/api/invocations?card={answer.Cards[0]["uuid"]}"))["items"]!.AsArray();
        Assert.Equal((string?)item["eventId"], (string?)Assert.Single(byCard)!["eventId"]);
        Assert.Empty((await service.AuditApi($"/audit/api/invocations?card={Guid.NewGuid()}"))["items"]!.AsArray());
    }

    /// <summary>Decisions 18 and 20 of 2026-12-07: when the service stays silent because the patient is deceased, or reads
    /// no order because the draft is another patient's or not a draft, the call's record says so.</summary>
    public static async Task ASilentAnswerSaysWhyInItsRecord(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var deceased = Coapt("p7").Patient("1944-05-01", deceasedOn: "2026-11-19T04:12:00-05:00");
        var answer = await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p7", deceased.Prefetch(Terminology.Terminology.Embedded)));
        Assert.Equal(200, answer.Status);
        Assert.Empty(answer.Cards);
        var signed = await service.PostAsync(Requests.OrderSignId,
            Requests.OrderSign("p8", [Requests.TeerOrder(patientId: "p9")], Coapt("p8").Prefetch(Terminology.Terminology.Embedded)));
        Assert.Empty(signed.Cards);

        var silent = await Record(service, "p7");
        Assert.All(silent["rules"]!.AsArray(), r =>
        {
            Assert.False((bool)r!["fired"]!);
            Assert.Contains("recorded as deceased (Patient/p7, 2026-11-19)", (string)r["reason"]!, StringComparison.Ordinal);
        });
        var ignored = (await Record(service, "p8"))["rules"]!.AsArray().Single(r => (string?)r!["ruleId"] == "smr-order-teer")!;
        Assert.Contains("ignored: ServiceRequest/teer-1 (its subject is Patient/p9, not the patient in context)", (string)ignored["reason"]!, StringComparison.Ordinal);

        static async Task<JsonNode> Record(ServiceFactory service, string patient)
        {
            var item = Assert.Single((await service.AuditApi($"/audit/api/invocations?patient={patient}"))["items"]!.AsArray())!;
            return (await service.AuditApi($"/audit/api/invocations/{item["eventId"]}"))["record"]!;
        }
    }

    /// <summary>The chain signs, exports and verifies the stored text: a hook's record, now serialised straight to UTF-8
    /// and bound as bytes, must still be stored as TEXT, byte for byte the JSON the record's string serialisation gives.</summary>
    public static async Task TheStoredDocumentIsTextByteForByteTheRecordsJson(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, CoaptRequest())).Status);
        var refused = CoaptRequest();
        refused["context"]!.AsObject().Remove("patientId");
        Assert.Equal(400, (await service.PostAsync(Requests.PatientViewId, refused)).Status);

        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = AuditDatabase.Command(connection, null, store == Store.Sqlite
            ? "SELECT typeof(document), CAST(document AS BLOB), document FROM audit_events WHERE kind = 'hook' ORDER BY seq"
            : "SELECT pg_typeof(document)::text, convert_to(document, 'UTF8'), document FROM audit_events WHERE kind = 'hook' ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync();
        var statuses = new List<int>();
        while (await reader.ReadAsync())
        {
            Assert.Equal("text", reader.GetString(0));
            var stored = (byte[])reader.GetValue(1);
            var record = System.Text.Json.JsonSerializer.Deserialize(reader.GetString(2), AuditJson.Default.InvocationRecord)!;
            Assert.Equal(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(record, AuditJson.Default.InvocationRecord)), stored);
            statuses.Add(record.Status);
        }
        Assert.Equal([200, 400], statuses);
        var verify = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)verify["intact"]!, (string?)verify["problem"]);
    }

    public static async Task RefusedCallsAreRecordedWithTheirReason(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var invalid = CoaptRequest();
        invalid["context"]!.AsObject().Remove("patientId");
        Assert.Equal(400, (await service.PostAsync(Requests.PatientViewId, invalid)).Status);
        var unobtainable = Requests.PatientView("p2", new JsonObject());
        Assert.Equal(412, (await service.PostAsync(Requests.PatientViewId, unobtainable)).Status);
        using (var anonymous = service.CreateClient())
        using (var content = new StringContent(CoaptRequest().ToJsonString(), Encoding.UTF8, "application/json"))
        {
            Assert.Equal(401, (int)(await anonymous.PostAsync("/cds-services/secondary-mr-patient-view", content)).StatusCode);
        }

        var items = (await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal([400, 401, 412], items.Select(i => (int)i["status"]!).Order());
        foreach (var item in items)
        {
            var record = (await service.AuditApi($"/audit/api/invocations/{item["eventId"]}"))["record"]!;
            Assert.False(string.IsNullOrWhiteSpace((string?)record["reason"]));
        }
        Assert.Contains(items, i => (int)i["status"]! == 412 && (string?)i["patientId"] == "p2");
    }

    public static async Task NoTokenIsKept(Store store)
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        await using var service = new ServiceFactory().Audited(store);
        fhir.Add(Coapt().Resources);
        const string fhirToken = "fhir-token-SECRET-7731";
        using var client = service.CreateClient();
        var jwt = TestEhr.Default.Token($"{service.PublicBaseUrl}/cds-services/{Requests.PatientViewId}", issuedAt: service.Clock.GetUtcNow());
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/cds-services/{Requests.PatientViewId}")
        {
            Content = new StringContent(Requests.PatientView("p1", fhirServer: fhir.BaseUrl, accessToken: fhirToken).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", jwt);
        Assert.Equal(200, (int)(await client.SendAsync(request)).StatusCode);

        var stored = await AuditSupport.EverythingStored(service, store);
        Assert.Contains("smr-coapt-profile", stored, StringComparison.Ordinal); // the search does see the trail
        foreach (var secret in new[] { fhirToken, jwt, jwt.Split('.')[2] })
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        }
    }

    public static async Task TheChainVerifiesAndShowsTampering(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, CoaptRequest($"p{i}"))).Status);
        }
        var report = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)report["intact"]!);
        Assert.Equal(5, (long)report["events"]!);

        // Someone edits a stored card summary.
        await Sql(service, "UPDATE audit_events SET document = replace(document, 'consider Heart Valve Team', 'no need for') WHERE seq = 3");
        // The quick check reads only what was added since the last: it says so, and that the full walk is what shows this.
        var quick = await service.AuditApi("/audit/api/verify");
        Assert.Equal(0, (long)quick["eventsRead"]!);
        Assert.Contains("shows on the next full walk", (string)quick["note"]!, StringComparison.Ordinal);
        var altered = await service.AuditApi("/audit/api/verify?full=true");
        Assert.False((bool)altered["intact"]!);
        Assert.Equal(3, (long)altered["firstBrokenSeq"]!);
        Assert.Contains("altered", (string)altered["problem"]!, StringComparison.Ordinal);

        await using var other = new ServiceFactory().Audited(store);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(200, (await other.PostAsync(Requests.PatientViewId, CoaptRequest($"q{i}"))).Status);
        }
        // Someone deletes an awkward record.
        await Sql(other, "DELETE FROM invocations WHERE event_id IN (SELECT id FROM audit_events WHERE seq = 2); DELETE FROM cards WHERE event_id IN (SELECT id FROM audit_events WHERE seq = 2); DELETE FROM audit_events WHERE seq = 2");
        var gap = await other.AuditApi("/audit/api/verify");
        Assert.False((bool)gap["intact"]!);
        Assert.Equal(3, (long)gap["firstBrokenSeq"]!);
        Assert.Contains("missing", (string)gap["problem"]!, StringComparison.Ordinal);
    }

    public static async Task FeedbackIsKeptOnceAndTiedToItsCard(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var answer = await service.PostAsync(Requests.PatientViewId, CoaptRequest());
        var card = answer.Cards[0];
        var suggestion = (string)card["suggestions"]![0]!["uuid"]!;
        var accepted = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "accepted", ["outcomeTimestamp"] = "2026-11-21T12:05:00Z",
                ["acceptedSuggestions"] = new JsonArray(new JsonObject { ["id"] = suggestion }),
            }),
        };
        var overridden = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:06:00Z",
                ["overrideReason"] = new JsonObject { ["reason"] = new JsonObject { ["code"] = "already-evaluated-hvt", ["system"] = "https://fhir.cdsmitral.org/CodeSystem/override-reason" }, ["userComment"] = "seen in clinic" },
            }),
        };
        var unknownCard = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject { ["card"] = Guid.NewGuid().ToString(), ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:07:00Z" }),
        };
        foreach (var body in new[] { accepted, accepted, overridden, unknownCard, accepted })
        {
            Assert.Equal(200, (await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}/feedback", body.ToJsonString())).Status);
        }

        var item = (await service.AuditApi("/audit/api/invocations"))["items"]![0]!;
        Assert.Equal(["accepted", "overridden"], item["feedbackOutcomes"]!.AsArray().Select(o => (string)o!).Order());
        var detail = await service.AuditApi($"/audit/api/invocations/{item["eventId"]}");
        var feedback = detail["feedback"]!.AsArray();
        Assert.Equal(2, feedback.Count); // the accepted item arrived three times and is kept once
        Assert.All(feedback, f => Assert.True((bool)f!["knownCard"]!));
        Assert.Equal("seen in clinic", (string?)feedback.Single(f => (string?)f!["outcome"] == "overridden")!["userComment"]);
        var unmatched = await service.AuditApi("/audit/api/feedback/unmatched");
        Assert.False((bool)Assert.Single(unmatched.AsArray())!["knownCard"]!);
        Assert.Equal(4, (long)(await service.AuditApi("/audit/api/verify"))["events"]!); // 1 hook + 3 distinct feedback items
    }

    public static async Task RetentionPurgesTheOldestAndTheRestStillVerifies(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, CoaptRequest($"p{i}"))).Status);
        }
        await Sql(service, "UPDATE audit_events SET at = '2020-01-01T00:00:00.0000000Z' WHERE seq <= 2; " + // pretend they are old
            "UPDATE invocations SET at = '2020-01-01T00:00:00.0000000Z' WHERE event_id IN (SELECT id FROM audit_events WHERE seq <= 2)");
        // Rehash the two aged events so the chain is intact before the purge (the edit above is the test's, not an attacker's).
        var store_ = service.Services.GetRequiredService<AuditStore>();
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using (var connection = await db.OpenAsync(CancellationToken.None))
        {
            var prev = AuditStore.Genesis;
            var rows = new List<(long Seq, string Id, string Kind, string At, string Doc)>();
            await using (var read = AuditDatabase.Command(connection, null, "SELECT seq, id, kind, at, document FROM audit_events ORDER BY seq"))
            await using (var reader = await read.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
                }
            }
            foreach (var r in rows)
            {
                var hash = store_.Keys.Current.Sign(prev, r.Seq, r.Id, r.Kind, r.At, r.Doc);
                await AuditDatabase.Execute(connection, null, "UPDATE audit_events SET prev_hash = @p, hash = @h WHERE seq = @s", CancellationToken.None, ("p", prev), ("h", hash), ("s", r.Seq));
                prev = hash;
            }
            await AuditDatabase.Execute(connection, null, "UPDATE chain_head SET hash = @h WHERE id = 1", CancellationToken.None, ("h", prev));
        }
        var before = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)before["intact"]!, before.ToJsonString());

        var purge = await store_.PurgeAsync(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeProvider.System, CancellationToken.None);
        Assert.NotNull(purge);
        Assert.Equal(2, purge.EventsRemoved);
        var report = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)report["intact"]!, report.ToJsonString());
        Assert.Equal(2, (long)report["events"]!); // the remaining hook and the purge event itself
        Assert.Single((await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray());
        Assert.Null(await store_.PurgeAsync(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeProvider.System, CancellationToken.None));
    }

    public static async Task ConcurrentCallsAllGetTheirRecord(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Callers:PermitLimit", "100000");
        var calls = Enumerable.Range(0, 60).Select(i => service.PostAsync(Requests.PatientViewId, CoaptRequest($"c{i}"))).ToList();
        var answers = await Task.WhenAll(calls);
        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.Equal(60, (long)(await service.AuditApi("/audit/api/invocations"))["total"]!);
        var report = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)report["intact"]!);
        Assert.Equal(60, (long)report["events"]!);
    }

    public static async Task AuditorsFilterAndExport(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await service.PostAsync(Requests.PatientViewId, CoaptRequest("alice"));
        await service.PostAsync(Requests.PatientViewId, Requests.PatientView("bob", new Chart("bob").Prefetch(Terminology.Terminology.Embedded)));
        var outside = Requests.PatientView("carol", new Chart("carol").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(75, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(Terminology.Terminology.Embedded));
        await service.PostAsync(Requests.PatientViewId, outside);

        Assert.Equal(["carol"], (await service.AuditApi("/audit/api/invocations?rule=smr-outside-range"))["items"]!.AsArray().Select(i => (string)i!["patientId"]!));
        Assert.Equal(2, (long)(await service.AuditApi("/audit/api/invocations?indicator=info"))["total"]!);
        Assert.Equal(0, (long)(await service.AuditApi("/audit/api/invocations?from=2030-01-01"))["total"]!);
        Assert.Equal(3, (long)(await service.AuditApi("/audit/api/invocations?from=2026-11-21&to=2026-11-21"))["total"]!);

        using var client = service.AuditorClient();
        var csv = await client.GetStringAsync("/audit/export.csv?patient=alice");
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("event_id,at,service_id", lines[0], StringComparison.Ordinal);
        Assert.Contains("alice", lines[1], StringComparison.Ordinal);
        var ndjson = (await client.GetStringAsync("/audit/export.ndjson")).TrimEnd('\n').Split('\n');
        Assert.Equal(3, ndjson.Length);
        Assert.All(ndjson, line => Assert.NotNull(JsonNode.Parse(line)!["record"]!["serviceId"]));
    }

    public static async Task OnlyAuditorsMayRead(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        using var nobody = service.CreateClient();
        using var wrong = service.AuditorClient(password: "guess");
        using var signedEhr = service.CreateSignedClient();
        foreach (var client in new[] { nobody, wrong, signedEhr })
        {
            using var response = await client.GetAsync("/audit/api/invocations");
            Assert.Equal(401, (int)response.StatusCode);
            Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.Single().Scheme, StringComparison.Ordinal);
        }
        using var auditor = service.AuditorClient();
        Assert.Equal(200, (int)(await auditor.GetAsync("/audit")).StatusCode);
    }
}
