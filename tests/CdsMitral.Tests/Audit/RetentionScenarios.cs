using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Audit;

/// <summary>
/// Retention that keeps the chain verifiable (issue 24, scope 2): what is older than the retention is archived (its
/// events exactly as hashed, and a signed seal), flushed to disk, and only then removed, with a purge event that names
/// the archive and its SHA-256. What remains verifies from the new anchor, without a full walk; the archives verify
/// against their own seals and against what their purges recorded; a prefix that does not verify is kept. On either store.
/// </summary>
public static class RetentionScenarios
{
    private static ServiceFactory Service(Store store, int retentionDays = 0) => new ServiceFactory().Audited(store)
        .With("CdsMitral:Audit:RetentionDays", retentionDays.ToString(CultureInfo.InvariantCulture))
        .With("CdsMitral:Audit:MaintenanceInterval", "00:00:00.200")
        // The clock jumps days here, which would make the scheduled full walk due: the checks below count what they read.
        .With("CdsMitral:Audit:FullVerifyInterval", "00:00:00");

    private static async Task<List<string>> CallsAsync(ServiceFactory service, string prefix, int count)
    {
        var cards = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var answer = await service.PostAsync(Requests.PatientViewId, AuditScenarios.CoaptRequest($"{prefix}{i}"));
            Assert.Equal(200, answer.Status);
            cards.Add((string)answer.Cards[0]["uuid"]!);
        }
        return cards;
    }

    private static async Task FeedbackAsync(ServiceFactory service, string card)
    {
        var body = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject { ["card"] = card, ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:05:00Z" }),
        };
        Assert.Equal(200, (await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}/feedback", body.ToJsonString())).Status);
    }

    private static async Task<JsonNode> ArchivesAsync(ServiceFactory service) => await service.AuditApi("/audit/api/archives");

    private static async Task<JsonNode> WaitForArchivesAsync(ServiceFactory service, int count)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var report = await ArchivesAsync(service);
            // An archive is on disk a moment before the purge that names it commits.
            var archives = report["archives"]!.AsArray();
            if ((archives.Count >= count && archives.All(a => a!["namedBy"] is not null)) || DateTime.UtcNow > until)
            {
                return report;
            }
            await Task.Delay(100);
        }
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>An archive's lines, as zcat shows them.</summary>
    private static string[] ReadArchive(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd().Split('\n')[..^1];
    }

    private static void WriteArchive(string path, IEnumerable<string> lines)
    {
        using var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gzip.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n"))));
    }

    public static async Task RetentionArchivesWhatItRemovesAndBothVerify(Store store)
    {
        await using var service = Service(store, retentionDays: 30);
        var cards = await CallsAsync(service, "old", 3);
        await FeedbackAsync(service, cards[0]);
        var before = await service.AuditApi("/audit/api/verify");
        var old = (long)before["events"]!;
        Assert.Equal(4, old); // three calls and one answer

        service.Clock.Advance(TimeSpan.FromDays(32));
        await CallsAsync(service, "new", 1);

        // The maintenance pass archives the old day and removes it.
        var report = await WaitForArchivesAsync(service, 1);
        Assert.True((bool)report["intact"]!, report.ToJsonString());
        var archive = Assert.Single(report["archives"]!.AsArray())!;
        Assert.True((bool)archive["intact"]!, archive.ToJsonString());
        Assert.Equal(1, (long)archive["firstSeq"]!);
        Assert.Equal(old, (long)archive["lastSeq"]!);
        Assert.Equal(old, (long)archive["events"]!);
        Assert.Equal(AuditStore.Genesis, (string)archive["startsAfter"]!);
        Assert.Contains("in the chain", (string)archive["namedBy"]!, StringComparison.Ordinal);

        // The purge event in the chain names the file, and the SHA-256 of what is on disk.
        var folder = (string)report["folder"]!;
        var path = Path.Combine(folder, (string)archive["file"]!);
        var purge = await PurgeRecordAsync(service);
        Assert.Equal((string)archive["file"]!, purge.Archive);
        Assert.Equal(Sha256(path), purge.ArchiveSha256);
        Assert.Equal((string)archive["endsAt"]!, purge.Anchor);
        Assert.Equal(old + 1, purge.FirstRemainingSeq);
        // The archive holds each event as it was: the old calls' patients are there, the new one's is not.
        var text = string.Join("\n", ReadArchive(path));
        Assert.Contains("old0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("new0", text, StringComparison.Ordinal);

        // What remains verifies, quickly and in full: the new call and the purge event.
        var quick = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)quick["intact"]!, quick.ToJsonString());
        var full = await service.AuditApi("/audit/api/verify?full=true");
        Assert.True((bool)full["intact"]!, full.ToJsonString());
        Assert.Equal(2, (long)full["events"]!);
        Assert.Equal(2, (long)quick["events"]!);
        Assert.Equal(["new0"], (await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray().Select(i => (string)i!["patientId"]!));

        // The governance figures of the purged day stay.
        using var auditor = service.AuditorClient();
        var csv = await auditor.GetStringAsync("/audit/insights.csv?from=2026-11-16&to=2026-11-22");
        var coapt = csv.Split('\n').Single(l => l.StartsWith("smr-coapt-profile,", StringComparison.Ordinal)).Split(',');
        Assert.Equal("3", coapt[3]); // judged
        Assert.Equal("1", coapt[13]); // overridden
    }

    private static async Task<PurgeRecord> PurgeRecordAsync(ServiceFactory service)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = AuditDatabase.Command(connection, null, "SELECT document FROM audit_events WHERE kind = 'purge' ORDER BY seq DESC LIMIT 1");
        var document = (string)(await command.ExecuteScalarAsync())!;
        return System.Text.Json.JsonSerializer.Deserialize(document, AuditJson.Default.PurgeRecord)!;
    }

    public static async Task AnAlteredArchiveIsFound(Store store)
    {
        await using var service = Service(store);
        await CallsAsync(service, "p", 3);
        service.Clock.Advance(TimeSpan.FromDays(2));
        var audit = service.Services.GetRequiredService<AuditStore>();
        Assert.NotNull(await audit.PurgeAsync(service.Clock.GetUtcNow().AddDays(-1), service.Clock, CancellationToken.None));
        var report = await ArchivesAsync(service);
        Assert.True((bool)report["intact"]!, report.ToJsonString());
        var path = Path.Combine((string)report["folder"]!, (string)report["archives"]![0]!["file"]!);
        var original = ReadArchive(path);
        var whole = await File.ReadAllBytesAsync(path);

        async Task<string> ProblemAfter(string[] lines)
        {
            WriteArchive(path, lines);
            var found = await ArchivesAsync(service);
            Assert.False((bool)found["intact"]!, found.ToJsonString());
            return (string)found["archives"]![0]!["problem"]!;
        }

        // A record's content edited: its HMAC no longer holds.
        Assert.Contains("event 2: its content does not match its hash",
            await ProblemAfter([.. original.Select((l, i) => i == 1 ? l.Replace("p1", "px", StringComparison.Ordinal) : l)]), StringComparison.Ordinal);
        // A record removed: the numbers have a gap.
        Assert.Contains("expected event 2, found 3", await ProblemAfter([.. original.Where((_, i) => i != 1)]), StringComparison.Ordinal);
        // The seal cut off: the file ends short.
        Assert.Contains("no seal", await ProblemAfter(original[..^1]), StringComparison.Ordinal);
        // The seal rewritten to match edited events, without the key: its signature fails.
        Assert.Contains("seal's signature", await ProblemAfter([.. original[..^1], original[^1].Replace("\"events\":3", "\"events\":4", StringComparison.Ordinal)]), StringComparison.Ordinal);
        // The file cut short: it no longer decompresses.
        await File.WriteAllBytesAsync(path, whole[..(whole.Length / 2)]);
        Assert.False((bool)(await ArchivesAsync(service))["intact"]!);
        // Anything after the seal.
        Assert.Contains("more after the seal", await ProblemAfter([.. original, "{}"]), StringComparison.Ordinal);
        // A file that verifies on its own (the same events written differently, the seal signed again with the key) but is
        // not the file the purge recorded.
        var respaced = original[..^1].Select(l => "{ " + l[1..]).ToArray();
        var seal = JsonNode.Parse(original[^1])!["seal"]!;
        seal["sha256"] = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(respaced.Select(l => l + "\n")))));
        var resealed = System.Text.Json.JsonSerializer.Deserialize(seal.ToJsonString(), AuditJson.Default.ArchiveSeal)!;
        seal["mac"] = audit.Keys.Find(resealed.KeyId)!.Sign(resealed.Text);
        Assert.Contains("not the one the purge event at seq", await ProblemAfter([.. respaced, new JsonObject { ["seal"] = seal.DeepClone() }.ToJsonString()]), StringComparison.Ordinal);

        // Put back byte for byte, it verifies again.
        await File.WriteAllBytesAsync(path, whole);
        Assert.True((bool)(await ArchivesAsync(service))["intact"]!);
        // Moved away (to cold storage), it is not a break of the chain, and the report says where it went missing.
        File.Move(path, path + ".moved");
        var moved = await ArchivesAsync(service);
        Assert.True((bool)moved["intact"]!);
        Assert.Contains(Path.GetFileName(path), (string)moved["summary"]!, StringComparison.Ordinal);
        Assert.True((bool)(await service.AuditApi("/audit/api/verify?full=true"))["intact"]!);
    }

    public static async Task APrefixThatDoesNotVerifyIsNeitherArchivedNorRemoved(Store store)
    {
        await using var service = Service(store);
        await CallsAsync(service, "p", 3);
        await AuditScenarios.Sql(service, "UPDATE audit_events SET document = replace(document, 'consider Heart Valve Team', 'no need for') WHERE seq = 2");
        service.Clock.Advance(TimeSpan.FromDays(2));
        var audit = service.Services.GetRequiredService<AuditStore>();
        var refused = await Assert.ThrowsAsync<RetentionRefusedException>(() => audit.PurgeAsync(service.Clock.GetUtcNow().AddDays(-1), service.Clock, CancellationToken.None));
        Assert.Contains("event 2: its content does not match its hash", refused.Message, StringComparison.Ordinal);
        Assert.Empty((await ArchivesAsync(service))["archives"]!.AsArray());
        Assert.Empty(Directory.Exists(audit.Archives!.Folder) ? Directory.GetFiles(audit.Archives.Folder) : []);
        Assert.Equal(3, (long)(await service.AuditApi("/audit/api/invocations"))["total"]!);
        var verify = await service.AuditApi("/audit/api/verify?full=true");
        Assert.Equal(2, (long)verify["firstBrokenSeq"]!); // the evidence is still there
    }

    public static async Task ABacklogGoesInSlicesThatChainThroughTheirPurgeEvents(Store store)
    {
        await using var service = Service(store);
        await CallsAsync(service, "p", 5); // seq 1–5
        service.Clock.Advance(TimeSpan.FromDays(2));
        await CallsAsync(service, "q", 2); // seq 6–7
        Assert.Equal(7, (long)(await service.AuditApi("/audit/api/verify"))["eventsRead"]!);
        var audit = service.Services.GetRequiredService<AuditStore>();
        var cut = service.Clock.GetUtcNow().AddDays(-1);
        var first = await audit.PurgeAsync(cut, service.Clock, CancellationToken.None, maxEvents: 3);
        var second = await audit.PurgeAsync(cut, service.Clock, CancellationToken.None, maxEvents: 3);
        var third = await audit.PurgeAsync(cut, service.Clock, CancellationToken.None, maxEvents: 3);
        Assert.Equal(3, first!.EventsRemoved); // p0–p2
        Assert.Equal(2, second!.EventsRemoved); // p3, p4: the q calls are younger than the cut
        Assert.Null(third);

        var report = await ArchivesAsync(service);
        Assert.True((bool)report["intact"]!, report.ToJsonString());
        var archives = report["archives"]!.AsArray();
        Assert.Equal([1L, 4L], archives.Select(a => (long)a!["firstSeq"]!));
        Assert.Equal((string)archives[0]!["endsAt"]!, (string)archives[1]!["startsAfter"]!);
        Assert.All(archives, a => Assert.Contains("in the chain", (string)a!["namedBy"]!, StringComparison.Ordinal));

        // The remaining chain resumes from what was proved before the purges: it reads only the two purge events.
        var quick = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)quick["intact"]!, quick.ToJsonString());
        Assert.Equal(2, (long)quick["eventsRead"]!);
        Assert.Equal(4, (long)quick["events"]!);
        Assert.Equal(4, (long)(await service.AuditApi("/audit/api/verify?full=true"))["events"]!);

        // Days later the q calls and both purge events are old too: they go into the next archive, which then vouches for
        // the first two.
        service.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(4, (await audit.PurgeAsync(service.Clock.GetUtcNow().AddDays(-1), service.Clock, CancellationToken.None))!.EventsRemoved);
        var later = await ArchivesAsync(service);
        Assert.True((bool)later["intact"]!, later.ToJsonString());
        Assert.Equal([1L, 4L, 6L], later["archives"]!.AsArray().Select(a => (long)a!["firstSeq"]!));
        Assert.All(later["archives"]!.AsArray().Take(2), a => Assert.Contains("kept in", (string)a!["namedBy"]!, StringComparison.Ordinal));
        Assert.True((bool)(await service.AuditApi("/audit/api/verify"))["intact"]!);
    }

    public static async Task ADeletedPrefixWithoutAPurgeIsStillFound(Store store)
    {
        // Someone with the database but not the key removes the oldest events and moves the anchor, after a quick check
        // proved them: the next quick check, resuming, still finds that no purge says so.
        await using var service = Service(store);
        await CallsAsync(service, "p", 4);
        Assert.True((bool)(await service.AuditApi("/audit/api/verify"))["intact"]!);
        await AuditScenarios.Sql(service,
            "DELETE FROM cards WHERE event_id IN (SELECT id FROM audit_events WHERE seq <= 2); " +
            "DELETE FROM invocations WHERE event_id IN (SELECT id FROM audit_events WHERE seq <= 2); " +
            "UPDATE chain_head SET anchor = (SELECT hash FROM audit_events WHERE seq = 2), anchor_seq = 2 WHERE id = 1; " +
            "DELETE FROM audit_events WHERE seq <= 2");
        var report = await service.AuditApi("/audit/api/verify");
        Assert.False((bool)report["intact"]!, report.ToJsonString());
        Assert.Contains("no purge in it says so", (string)report["problem"]!, StringComparison.Ordinal);
    }
}

/// <summary>The retention scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class RetentionOnEachStore(Store store)
{
    [Fact] public Task RetentionArchivesWhatItRemovesAndBothVerify() => RetentionScenarios.RetentionArchivesWhatItRemovesAndBothVerify(Requires.Available(store));
    [Fact] public Task AnAlteredArchiveIsFound() => RetentionScenarios.AnAlteredArchiveIsFound(Requires.Available(store));
    [Fact] public Task APrefixThatDoesNotVerifyIsNeitherArchivedNorRemoved() => RetentionScenarios.APrefixThatDoesNotVerifyIsNeitherArchivedNorRemoved(Requires.Available(store));
    [Fact] public Task ABacklogGoesInSlicesThatChainThroughTheirPurgeEvents() => RetentionScenarios.ABacklogGoesInSlicesThatChainThroughTheirPurgeEvents(Requires.Available(store));
    [Fact] public Task ADeletedPrefixWithoutAPurgeIsStillFound() => RetentionScenarios.ADeletedPrefixWithoutAPurgeIsStillFound(Requires.Available(store));
}

public sealed class SqliteRetentionTests() : RetentionOnEachStore(Store.Sqlite);

public sealed class PostgresRetentionTests() : RetentionOnEachStore(Store.Postgres);

