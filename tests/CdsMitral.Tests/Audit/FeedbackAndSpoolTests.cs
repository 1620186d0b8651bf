using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Audit;

public sealed class FeedbackValidationTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private const string Path = "/cds-services/secondary-mr-patient-view/feedback";

    [Theory]
    [InlineData("""{"feedback":[]}""", "non-empty 'feedback' array")]
    [InlineData("""[1]""", "non-empty 'feedback' array")]
    [InlineData("""{"feedback":[{"outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z"}]}""", "feedback[0].card is required")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"ignored","outcomeTimestamp":"2026-11-21T12:00:00Z"}]}""", "must be 'accepted' or 'overridden'")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"accepted","outcomeTimestamp":"2026-11-21T12:00:00Z"}]}""", "needs acceptedSuggestions")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"yesterday"}]}""", "outcomeTimestamp is required")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{}}]}""", "needs a reason or a userComment")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"reason":{"code":"x"}}}]}""", "Coding with code and system")]
    [InlineData("""{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z"},"x"]}""", "feedback[1] must be an object")]
    [InlineData("""{"feedback":[{"card":"c1",""", "not valid JSON")]
    public async Task MalformedFeedbackAnswers400SayingWhatIsWrong(string body, string mentions)
    {
        var response = await service.PostRawAsync(Path, body);
        Assert.Equal(400, response.Status);
        Assert.Contains(response.Issues, i => i.Contains(mentions, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSandboxsFeedbackShapeIsAccepted()
    {
        // No display on the reason, no userComment: what the CDS Hooks Sandbox sends on Dismiss.
        var body = """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000001","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00.000Z","overrideReason":{"reason":{"code":"patient-refuses","system":"http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"}}}]}""";
        Assert.Equal(200, (await service.PostRawAsync(Path, body)).Status);
    }

    [Fact]
    public async Task FeedbackToAnUnknownServiceIs404AndWithoutATokenIs401()
    {
        var body = """{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z"}]}""";
        Assert.Equal(404, (await service.PostRawAsync("/cds-services/nope/feedback", body)).Status);
        using var anonymous = service.CreateClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        Assert.Equal(401, (int)(await anonymous.PostAsync(Path, content)).StatusCode);
    }
}

public sealed class SpoolTests
{
    [Fact]
    public async Task WhenTheStoreCannotBeWrittenRecordsAreSpooledAndMovedBackExactlyOnce()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite)
            .With("CdsMitral:Audit:BusyTimeout", "00:00:00.200").With("CdsMitral:Audit:MaintenanceInterval", "01:00:00");
        var request = (int i) => Requests.PatientView($"s{i}", new Chart($"s{i}").Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Prefetch(Terminology.Terminology.Embedded));
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, request(0))).Status); // store works

        // Another process holds the write lock: the store is unavailable to the service.
        var file = System.IO.Path.Combine(service.DataDirectory, "audit.db");
        // Pooling off: a pooled connection would keep its raw transaction (and the lock) after being disposed.
        await using (var blocker = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await blocker.OpenAsync();
            await using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }
            for (var i = 1; i <= 3; i++)
            {
                Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, request(i))).Status); // answered: the record is durable in the spool
            }
            var writer = service.Services.GetRequiredService<AuditWriter>();
            Assert.False(writer.StoreHealthy);
            Assert.Equal(3, File.ReadAllLines(writer.SpoolFile).Length);
        }

        var audit = service.Services.GetRequiredService<AuditWriter>();
        Assert.Equal(3, await audit.DrainSpoolAsync(CancellationToken.None));
        Assert.True(audit.StoreHealthy);
        // Draining again (as after a crash between the move and the truncation) duplicates nothing.
        File.AppendAllText(audit.SpoolFile, await File.ReadAllTextAsync(audit.SpoolFile));
        var list = await service.AuditApi("/audit/api/invocations");
        Assert.Equal(4, (long)list["total"]!);
        Assert.True((bool)(await service.AuditApi("/audit/api/verify"))["intact"]!);
    }

    [Fact]
    public async Task ARecordSlippedIntoTheSpoolWithoutTheKeyNeverEntersTheChain()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Audit:MaintenanceInterval", "01:00:00");
        var writer = service.Services.GetRequiredService<AuditWriter>();
        var forged = InvocationAudit.Entry(new InvocationDraft(Requests.PatientViewId, service.Clock.GetUtcNow()), Service.Trust.CallingClient.Unverified, 200, null, 1);
        var json = System.Text.Json.JsonSerializer.Serialize(forged with { Invocation = forged.Invocation! with { PatientId = "slipped-in" } }, AuditJson.Default.AuditEntry);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(writer.SpoolFile)!);
        await File.WriteAllTextAsync(writer.SpoolFile, $"{json}\n{new string('0', 64)}\t0011223344556677\t{json}\n");

        Assert.Equal(0, await writer.DrainSpoolAsync(CancellationToken.None));
        Assert.Equal(0, (long)(await service.AuditApi("/audit/api/invocations"))["total"]!);
        Assert.Equal(2, File.ReadAllLines(writer.SpoolFile + ".rejected").Length); // kept aside for an auditor
    }

    [Fact]
    public async Task ARecordThatCanBeKeptNowhereMeansTheCallIsNotAnswered()
    {
        // The store is locked and the spool path cannot be created (its parent is a file): no record, so no cards.
        await using var service = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Audit:BusyTimeout", "00:00:00.200");
        var blockerFile = System.IO.Path.Combine(service.DataDirectory, "not-a-directory");
        await File.WriteAllTextAsync(blockerFile, "x");
        service.With("CdsMitral:Audit:SpoolPath", System.IO.Path.Combine(blockerFile, "spool.ndjson"));
        var request = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded));
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, request)).Status);
        await using var blocker = new SqliteConnection($"Data Source={System.IO.Path.Combine(service.DataDirectory, "audit.db")};Pooling=False");
        await blocker.OpenAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            await begin.ExecuteNonQueryAsync();
        }
        var refused = await service.PostAsync(Requests.PatientViewId, request);
        Assert.Equal(503, refused.Status);
        Assert.Contains(refused.Issues, i => i.Contains("audit trail is unavailable", StringComparison.Ordinal));
    }
}

public sealed class SharedReplayCacheTests
{
    [Fact]
    public async Task ATokenReplayedToAnotherInstanceIsRefusedToo()
    {
        Requires.Postgres();
        var schema = AuditSupport.NewSchema();
        await using var first = new ServiceFactory().Audited(Store.Postgres, schema);
        await using var second = new ServiceFactory().Audited(Store.Postgres, schema);
        var audience = $"{first.PublicBaseUrl}/cds-services/{Requests.PatientViewId}";
        var token = TestEhr.Default.Token(audience, issuedAt: first.Clock.GetUtcNow());
        var body = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded)).ToJsonString();
        async Task<int> Post(ServiceFactory instance)
        {
            using var client = instance.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/cds-services/{Requests.PatientViewId}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", token);
            return (int)(await client.SendAsync(request)).StatusCode;
        }
        Assert.Equal(200, await Post(first));
        Assert.Equal(401, await Post(second));
        // Both instances wrote to one chain, and it holds together.
        Assert.True((bool)(await first.AuditApi("/audit/api/verify"))["intact"]!);
        Assert.Equal(2, (long)(await second.AuditApi("/audit/api/invocations"))["total"]!);
    }
}
