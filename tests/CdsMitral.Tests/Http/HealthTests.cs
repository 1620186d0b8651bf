using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

public sealed class HealthTests
{
    private static async Task<(int Status, JsonNode Body)> Get(ServiceFactory service, string path)
    {
        using var client = service.CreateClient(); // no JWT: orchestrators probe without one
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    /// <summary>/health/ready once the warm-up (which runs beside the host) is done: until then it says "warming up".</summary>
    private static async Task<(int Status, JsonNode Body)> Ready(ServiceFactory service)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var ready = await Get(service, "/health/ready");
            var warmUp = (string?)ready.Body["checks"]?["warm-up"]?["description"];
            if (warmUp?.StartsWith("warming up", StringComparison.Ordinal) != true || DateTime.UtcNow > deadline)
            {
                return ready;
            }
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task LiveAndReadyAnswerWithoutCredentialsWhenTheAuditStoreIsReachable()
    {
        await using var service = new ServiceFactory();
        var live = await Get(service, "/health/live");
        Assert.Equal((200, "Healthy"), (live.Status, (string?)live.Body["status"]));
        var ready = await Ready(service);
        Assert.Equal((200, "Healthy"), (ready.Status, (string?)ready.Body["status"]));
        Assert.Equal("Healthy", (string?)ready.Body["checks"]!["audit-store"]!["status"]);
        Assert.Equal("the audit store is reachable; stand-backs checked in memory", (string?)ready.Body["checks"]!["audit-store"]!["description"]);
    }

    [Fact]
    public async Task ReadinessSaysWhenTheAuditTrailIsOff()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Audit:Store", "None");
        var ready = await Ready(service);
        Assert.Equal("Degraded", (string?)ready.Body["status"]);
        Assert.Contains("audit trail is off", (string)ready.Body["checks"]!["audit-store"]!["description"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadinessFailsWhenThePostgresStoreCannotBeReached()
    {
        Requires.Postgres();
        await using var service = new ServiceFactory().Audited(Store.Postgres)
            .With("CdsMitral:Audit:ConnectionString", "Host=127.0.0.1;Port=9;Username=x;Password=x;Database=x;Timeout=2");
        var ready = await Ready(service);
        Assert.Equal((503, "Unhealthy"), (ready.Status, (string?)ready.Body["status"]));
    }
}
