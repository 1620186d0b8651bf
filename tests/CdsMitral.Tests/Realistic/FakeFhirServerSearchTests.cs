using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Realistic;

/// <summary>The realistic charts are only as good as the server answering them: these pin the search behaviour
/// a real FHIR server has and the lenient default lacks.</summary>
public sealed class FakeFhirServerSearchTests : IAsyncLifetime
{
    private FakeFhirServer _fhir = null!;
    private readonly HttpClient _client = new();

    public async ValueTask InitializeAsync()
    {
        _fhir = await FakeFhirServer.StartAsync();
        _fhir.HonoursSearchParameters = true;
        _fhir.Add(RealisticChart.Load("epic-20-echo-panel-components").Resources);
        _fhir.Add(RealisticChart.Load("epic-06-server-ignores-include").Resources);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _fhir.DisposeAsync();
    }

    private async Task<List<(string Type, string? Mode)>> Search(string query)
    {
        var bundle = JsonNode.Parse(await _client.GetStringAsync($"{_fhir.BaseUrl}/{query}"))!;
        return bundle["entry"]!.AsArray().Select(e => ((string)e!["resource"]!["resourceType"]!, (string?)e["search"]?["mode"])).ToList();
    }

    [Fact]
    public async Task ACodeSearchFindsOnlyObservationsWithThatCodeNotPanelComponents()
    {
        var code = await Search("Observation?patient=ePnL20cOmP0nT3&code=http://loinc.org|18043-0");
        var combo = await Search("Observation?patient=ePnL20cOmP0nT3&combo-code=http://loinc.org|18043-0");
        Assert.Empty(code);
        Assert.Single(combo);
    }

    [Fact]
    public async Task IncludeOfTheMedicationAddsEachReferencedMedicationOnceAsInclude()
    {
        var entries = await Search("MedicationRequest?patient=eInC6gNoRqZ8kLw3&status=active&_include=MedicationRequest:medication");
        Assert.Equal(4, entries.Count(e => e == ("MedicationRequest", "match")));
        Assert.Equal(4, entries.Count(e => e == ("Medication", "include")));
    }

    [Fact]
    public async Task AServerThatIgnoresIncludeReturnsOnlyTheRequests()
    {
        _fhir.HonoursInclude = false;
        var entries = await Search("MedicationRequest?patient=eInC6gNoRqZ8kLw3&status=active&_include=MedicationRequest:medication");
        Assert.All(entries, e => Assert.Equal("MedicationRequest", e.Type));
        Assert.Equal(4, entries.Count);
    }

    [Fact]
    public async Task StatusAndPatientFilterAndAnotherPatientsResourcesStayOut()
    {
        Assert.Empty(await Search("MedicationRequest?patient=eInC6gNoRqZ8kLw3&status=stopped"));
        Assert.Empty(await Search("Condition?patient=someone-else"));
        Assert.Single(await Search("Condition?patient=eInC6gNoRqZ8kLw3&code=http://hl7.org/fhir/sid/icd-10-cm|I25.5,http://snomed.info/sct|0"));
    }
}
