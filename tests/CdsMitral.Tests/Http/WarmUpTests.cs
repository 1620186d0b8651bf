using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Http;

/// <summary>Issue 15: the first hook after start waited ~0.4 s for the JIT. The service now runs one synthetic hook
/// before it says ready, and that warm-up must leave no trace in the audit trail.</summary>
public sealed class WarmUpTests
{
    [Fact]
    public async Task ReadinessSaysTheWarmUpHasRunAndTheTrailHoldsNoRecordOfIt()
    {
        await using var service = new ServiceFactory();
        using var client = service.CreateClient();
        // The warm-up runs beside the host: readiness says "warming up" (503) until it is done, then ready.
        JsonNode ready;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync("/health/ready");
            ready = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if ((string?)ready["checks"]?["warm-up"]?["status"] == "Healthy" || DateTime.UtcNow > deadline)
            {
                Assert.Equal(200, (int)response.StatusCode);
                break;
            }
            Assert.Equal(503, (int)response.StatusCode);
            Assert.StartsWith("warming up", (string?)ready["checks"]?["warm-up"]?["description"], StringComparison.Ordinal);
            await Task.Delay(20);
        }
        Assert.Equal("Healthy", (string?)ready["checks"]?["warm-up"]?["status"]);
        Assert.StartsWith("warmed up in ", (string?)ready["checks"]?["warm-up"]?["description"], StringComparison.Ordinal);

        var store = service.Services.GetRequiredService<AuditStore>();
        var (rows, total) = await store.ListAsync(new AuditFilter(), 1, 10, CancellationToken.None);
        Assert.Equal(0, total);
        Assert.Empty(rows);
        Assert.Null(store.Head);
    }

    [Fact]
    public async Task TheFirstHookAfterReadyBuildsNoneOfTheServicesOwnPartsTheWarmUpLeftUnbuilt()
    {
        // Each part of the service gets its logger when it is built: a category first asked for after ready is a part
        // the first clinician's call had to build (and compile) itself. The client-trust handler, its verifier and JWKS
        // cache, the handler and the stand-back were such parts, ~40 % of the first hook (docs/performance.md).
        var built = new BuiltParts();
        await using var factory = new ServiceFactory();
        await using var service = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(built))));
        using var client = service.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var ready = await client.GetAsync("/health/ready");
            if (ready.IsSuccessStatusCode || DateTime.UtcNow > deadline)
            {
                Assert.True(ready.IsSuccessStatusCode, "the service did not say ready within 60 s");
                break;
            }
            await Task.Delay(20);
        }
        built.Ready = true;

        using var signed = service.CreateDefaultClient(new SigningHandler(TestEhr.Default, factory.PublicBaseUrl, factory.Clock));
        var body = await File.ReadAllTextAsync(Repo.PathOf("samples", "requests", "coapt-profile.patient-view.prefetch.json"));
        using var response = await signed.PostAsync("/cds-services/secondary-mr-patient-view", new StringContent(body, Encoding.UTF8, "application/json"));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.NotEmpty(answer["cards"]!.AsArray());
        Assert.DoesNotContain(built.AfterReady, c => c.StartsWith("CdsMitral.", StringComparison.Ordinal));
    }

    /// <summary>The logger categories asked for, and those first asked for once the service said ready.</summary>
    private sealed class BuiltParts : ILoggerProvider
    {
        public volatile bool Ready;

        public ConcurrentQueue<string> AfterReady { get; } = new();

        public ILogger CreateLogger(string categoryName)
        {
            if (Ready)
            {
                AfterReady.Enqueue(categoryName);
            }
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }

        public void Dispose()
        {
        }
    }
}
