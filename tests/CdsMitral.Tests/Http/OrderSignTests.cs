using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>order-sign, the last chance before orders are signed: the order rules again, over every draft order (there
/// are no selections at signing), with the same rule ids and no suggestions.</summary>
public sealed class OrderSignTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;

    private static Chart SevereSecondary(decimal lvesd = 58) => new Chart()
        .Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(lvesd, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();

    [Fact]
    public async Task DiscoveryOffersAnOrderSignServiceWithTheSamePrefetch()
    {
        using var client = service.CreateSignedClient();
        var services = JsonNode.Parse(await client.GetStringAsync("/cds-services"))!["services"]!.AsArray();
        var sign = services.Single(s => (string?)s!["id"] == Requests.OrderSignId)!;
        Assert.Equal("order-sign", (string?)sign["hook"]);
        var select = services.Single(s => (string?)s!["id"] == Requests.OrderSelectId)!;
        Assert.Equal(select["prefetch"]!.ToJsonString(), sign["prefetch"]!.ToJsonString());
    }

    [Fact]
    public async Task AtSigningEveryDraftOrderIsCheckedAndEachGetsItsOrderCard()
    {
        var chart = SevereSecondary(lvesd: 74);
        var request = Requests.OrderSign("p1", [Requests.TeerOrder(), Requests.SurgeryOrder()], chart.Prefetch(T));
        var response = await service.PostAsync(Requests.OrderSignId, request);
        Assert.Equal(200, response.Status);
        Assert.Equal(["smr-outside-range", "smr-periop"], response.RuleIds);
        // Decision 24: at signing the order is named by its short label, never as "selected".
        Assert.StartsWith("Signing TEER: LVESD 74 mm (2026-10-01) is above 70 mm", (string)response.Card("smr-outside-range")["summary"]!, StringComparison.Ordinal);
        Assert.Contains("Order being signed: Transcatheter mitral valve repair (TEER) (ServiceRequest/teer-1)", CardText.Of((string)response.Card("smr-outside-range")["detail"]!), StringComparison.Ordinal);
        Assert.All(response.Cards, c => Assert.Null(c["suggestions"]));
    }

    [Fact]
    public async Task ATeerOrderAtSigningWithNothingMoreSpecificGetsTheFramingCard()
    {
        var response = await service.PostAsync(Requests.OrderSignId, Requests.OrderSign("p1", [Requests.TeerOrder()], SevereSecondary().Prefetch(T)));
        Assert.Equal(["smr-order-teer"], response.RuleIds);
    }

    [Fact]
    public async Task OrdersUnrelatedToTheMitralValveOrSurgeryGetNoCardAtSigning()
    {
        var mri = Requests.ServiceRequest("mri-1", Chart.Snomed, "113091000", "MRI");
        var response = await service.PostAsync(Requests.OrderSignId, Requests.OrderSign("p1", [mri], SevereSecondary().Prefetch(T)));
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards);
    }

    [Fact]
    public async Task SelectionsSentWithOrderSignAreIgnoredEveryDraftCounts()
    {
        var request = Requests.OrderSign("p1", [Requests.TeerOrder(), Requests.SurgeryOrder()], SevereSecondary().Prefetch(T));
        request["context"]!["selections"] = new JsonArray("ServiceRequest/teer-1");
        var response = await service.PostAsync(Requests.OrderSignId, request);
        Assert.Contains("smr-periop", response.RuleIds);
    }

    [Fact]
    public async Task OrderSignWithoutDraftOrdersIsRefusedNamingTheMember()
    {
        var request = Requests.OrderSign("p1", [], SevereSecondary().Prefetch(T));
        request["context"]!.AsObject().Remove("draftOrders");
        var response = await service.PostAsync(Requests.OrderSignId, request);
        Assert.Equal(400, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("context.draftOrders is required", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnOrderSelectRequestSentToTheOrderSignServiceIsRefused()
    {
        var request = Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], SevereSecondary().Prefetch(T));
        var response = await service.PostAsync(Requests.OrderSignId, request);
        Assert.Equal(400, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("answers 'order-sign'", StringComparison.Ordinal));
    }
}
