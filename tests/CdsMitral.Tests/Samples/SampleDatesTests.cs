using System.Text.Json.Nodes;
using CdsMitral.Cli;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Samples;

/// <summary>The README's examples give the cards samples/README.md promises on any day: the CLI moves a sample's dates to
/// the day it runs. Here the service's clock and the CLI's day are four and a half years after the samples were written.</summary>
public sealed class SampleDatesTests : IAsyncLifetime
{
    private static readonly DateOnly Later = new(2031, 6, 5);
    private readonly ServiceFactory _service = ServiceFactory.At(new DateTimeOffset(2031, 6, 5, 9, 30, 0, TimeSpan.Zero));
    private FakeFhirServer _fhir = null!;

    public async ValueTask InitializeAsync() => _fhir = await FakeFhirServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _fhir.DisposeAsync();
        await _service.DisposeAsync();
    }

    public static TheoryData<string> RequestFiles() => SampleTests.RequestFiles();

    /// <summary>The request the README's commands make: the CLI's prefetch from the moved sample, or a FHIR server loaded
    /// with it by `cdsmitral load`.</summary>
    private async Task<HookResponse> Post(string file, DateOnly? asOf)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))![file]!;
        var request = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", file)))!.AsObject();
        var chart = PatientBundle.Load(Repo.PathOf("samples", (string)expected["patient"]!), asOf: asOf);
        var serviceId = (string)expected["service"]!;
        if (request["prefetch"] is not null)
        {
            using var client = _service.CreateSignedClient();
            var discovery = JsonNode.Parse(await client.GetStringAsync("/cds-services"))!;
            var templates = discovery["services"]!.AsArray().Single(s => (string?)s!["id"] == serviceId)!["prefetch"]!.AsObject();
            request["prefetch"] = LocalPrefetch.Evaluate(templates, chart, "Practitioner/example");
        }
        else
        {
            _fhir.Add(chart.Resources);
            request["fhirServer"] = _fhir.BaseUrl;
        }
        return await _service.PostAsync(serviceId, request);
    }

    [Theory]
    [MemberData(nameof(RequestFiles))]
    public async Task EachSampleGivesItsDocumentedCardsYearsLaterThroughTheCli(string file)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))![file]!;
        var response = await Post(file, Later);
        Assert.Equal(200, response.Status);
        Assert.Equal(expected["expectedRules"]!.AsArray().Select(r => (string)r!), response.RuleIds);
    }

    [Fact]
    public async Task WithoutMovingItsDatesTheCoaptSampleWouldBeStaleByThen()
    {
        var response = await Post("requests/coapt-profile.patient-view.prefetch.json", asOf: null);
        Assert.Equal(["smr-data-gaps"], response.RuleIds);
    }

    [Theory]
    [InlineData("2026-10-01", 10, "2026-10-11")]
    [InlineData("2026-10", 45, "2026-11")]
    [InlineData("2026-10-01T09:10:00-04:00", 1708, "2031-06-05T09:10:00-04:00")]
    [InlineData("2026-10-01T09:10:00Z", -1, "2026-09-30T09:10:00Z")]
    public void ADateIsMovedKeepingItsPrecisionAndOffset(string written, int days, string moved)
    {
        var resource = new JsonObject { ["effectiveDateTime"] = written, ["id"] = "2026-10-01", ["code"] = new JsonObject { ["text"] = "2026-10-01" } };
        SampleDates.Shift(resource, days);
        Assert.Equal(moved, (string?)resource["effectiveDateTime"]);
        Assert.Equal("2026-10-01", (string?)resource["id"]);
        Assert.Equal("2026-10-01", (string?)resource["code"]!["text"]);
    }
}
