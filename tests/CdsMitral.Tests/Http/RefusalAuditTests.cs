using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Http;

/// <summary>Refused calls under /cds-services: each leaves an audit record, and none can make that record (or its log
/// line) large.</summary>
public sealed class RefusalAuditTests
{
    private sealed class Capture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Capture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var properties = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : "";
                capture.Lines.Enqueue($"{category} {eventId.Name} {formatter(state, exception)} {properties} {exception}");
            }
        }
    }

    private static async Task<List<JsonNode>> Records(ServiceFactory service)
    {
        var items = (await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray().Select(i => i!).ToList();
        var records = new List<JsonNode>();
        foreach (var item in items)
        {
            records.Add((await service.AuditApi($"/audit/api/invocations/{item["eventId"]}"))["record"]!);
        }
        return records;
    }

    [Fact]
    public async Task ASevenKilobytePathRefusedWith401LeavesABoundedRecordAndLogLine()
    {
        var capture = new Capture();
        await using var service = new ServiceFactory().With("Logging:LogLevel:Default", "Information").Audited(Store.Sqlite);
        var configured = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));
        using var client = configured.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/cds-services/" + new string('x', 7 * 1024))
        {
            Content = new StringContent("""{"hook":"patient-view"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "garbage." + new string('g', 2000) + ".jwt");
        using var response = await client.SendAsync(request);
        Assert.Equal(401, (int)response.StatusCode);

        var record = Assert.Single(await Records(service));
        Assert.Equal(401, (int)record["status"]!);
        Assert.True(((string)record["serviceId"]!).Length <= 64, (string)record["serviceId"]!);
        Assert.True(((string)record["reason"]!).Length <= 200, (string)record["reason"]!);
        Assert.True(record.ToJsonString().Length < 1024, $"the record is {record.ToJsonString().Length} characters");
        var lines = capture.Lines.Where(l => l.Contains("rejected", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(capture.Lines, l => Assert.InRange(l.Length, 0, 1023));
    }

    [Fact]
    public async Task Answers401403404And429EachLeaveAnAuditRecordAndARateEpisodeOnlyOne()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Callers:PermitLimit", "4").Audited(Store.Sqlite)
            .With("CdsMitral:Trust:Clients:0:FhirServers:0", "https://ehr.test.example/fhir");
        using (var anonymous = service.CreateClient())
        using (var unauthenticated = await anonymous.GetAsync("/cds-services"))
        {
            Assert.Equal(401, (int)unauthenticated.StatusCode);
        }
        using var signed = service.CreateSignedClient();
        Assert.Equal(403, (await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: "https://elsewhere.example/fhir"))).Status);
        using (var feedback = await signed.PostAsync("/cds-services/no-such-service/feedback", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(404, (int)feedback.StatusCode);
        }
        using (var route = await signed.GetAsync("/cds-services/a/b/c"))
        {
            Assert.Equal(404, (int)route.StatusCode);
        }
        using (var ok = await signed.GetAsync("/cds-services"))
        {
            Assert.Equal(200, (int)ok.StatusCode);
        }
        for (var i = 0; i < 5; i++)
        {
            using var limited = await signed.GetAsync("/cds-services");
            Assert.Equal(429, (int)limited.StatusCode);
        }

        var records = await Records(service);
        Assert.Equal([401, 403, 404, 404, 429], records.Select(r => (int)r["status"]!).Order());
        Assert.All(records, r => Assert.False(string.IsNullOrWhiteSpace((string?)r["reason"])));
        var episode = records.Single(r => (int)r["status"]! == 429);
        Assert.Equal(TestEhr.Default.Issuer, (string?)episode["client"]!["issuer"]);
    }
}
