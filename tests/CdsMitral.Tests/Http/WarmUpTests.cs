using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

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
        using var response = await client.GetAsync("/health/ready");
        var ready = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Healthy", (string?)ready["checks"]?["warm-up"]?["status"]);
        Assert.StartsWith("warmed up in ", (string?)ready["checks"]?["warm-up"]?["description"], StringComparison.Ordinal);

        var store = service.Services.GetRequiredService<AuditStore>();
        var (rows, total) = await store.ListAsync(new AuditFilter(), 1, 10, CancellationToken.None);
        Assert.Equal(0, total);
        Assert.Empty(rows);
        Assert.Null(store.Head);
    }
}
