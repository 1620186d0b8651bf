using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Requests shaped as the CDS Hooks Sandbox sends them (shared/reference/sandbox-client-notes.md): its own JWT,
/// its browser origin, fhirServer without a token, failed prefetch keys omitted, DSTU2 drafts in a Bundle without type.</summary>
public sealed class SandboxClientTests : IAsyncLifetime
{
    private const string Origin = "https://sandbox.cds-hooks.org";
    private FakeFhirServer _fhir = null!;
    private ServiceFactory _service = null!;

    public async ValueTask InitializeAsync()
    {
        _fhir = await FakeFhirServer.StartAsync();
        _service = new ServiceFactory()
            .With("CdsMitral:Trust:Clients:1:Issuer", Origin)
            .With("CdsMitral:Trust:Clients:1:JwksFile", "presets/cds-hooks-sandbox.jwks.json")
            .With("CdsMitral:Trust:Clients:1:FhirServers:0", "http://127.0.0.1:*/fhir")
            .With("CdsMitral:Callers:CorsOrigins:0", Origin);
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        await _fhir.DisposeAsync();
    }

    private string SandboxJwt(string url) => SandboxIdentity.Jwt(url, _service.Clock.GetUtcNow());

    private async Task<(HookResponse Response, HttpResponseMessage Raw)> Post(string serviceId, JsonObject body)
    {
        var client = _service.CreateClient();
        var path = $"/cds-services/{serviceId}";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", SandboxJwt(_service.PublicBaseUrl + path));
        request.Headers.Add("Origin", Origin);
        var raw = await client.SendAsync(request);
        return (await HookResponse.ReadAsync(raw), raw);
    }

    [Fact]
    public async Task APatientViewWithSomePrefetchKeysOmittedIsCompletedFromItsOpenFhirServer()
    {
        var chart = new Chart("smart-1288992").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        _fhir.Add(chart.Resources);
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        prefetch.Remove("medicationStatements"); // the Sandbox's fetch failed: it omits the key, never sends null
        prefetch.Remove("procedures");
        var body = new JsonObject
        {
            ["hook"] = "patient-view",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["fhirServer"] = _fhir.BaseUrl,
            ["context"] = new JsonObject { ["patientId"] = "smart-1288992", ["userId"] = "Practitioner/COREPRACTITIONER1" },
            ["prefetch"] = prefetch,
        };
        var (response, raw) = await Post(Requests.PatientViewId, body);
        Assert.Equal(200, response.Status);
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Equal(Origin, raw.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(["MedicationStatement", "Procedure"], _fhir.Requests.Select(r => r.PathAndQuery.Split('?')[0].Split('/')[^1]).Order());
        Assert.All(_fhir.Requests, r => Assert.Null(r.Authorization)); // no fhirAuthorization: an open server
        raw.Dispose();
    }

    [Fact]
    public async Task AnRxViewOrderWithADstu2MedicationOrderInABundleWithoutTypeIsAnsweredQuietly()
    {
        var prefetch = new Chart("smart-1288992").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Prefetch(Terminology.Terminology.Embedded);
        var body = new JsonObject
        {
            ["hook"] = "order-select",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["fhirServer"] = _fhir.BaseUrl,
            ["context"] = new JsonObject
            {
                ["patientId"] = "smart-1288992",
                ["userId"] = "Practitioner/COREPRACTITIONER1",
                ["selections"] = new JsonArray("MedicationOrder/request-123"),
                ["draftOrders"] = new JsonObject
                {
                    ["resourceType"] = "Bundle",
                    ["entry"] = new JsonArray(new JsonObject
                    {
                        ["resource"] = new JsonObject
                        {
                            ["resourceType"] = "MedicationOrder", ["id"] = "request-123", ["status"] = "draft",
                            ["patient"] = new JsonObject { ["reference"] = "Patient/smart-1288992" }, ["dateWritten"] = "2026-11-21",
                            ["medicationCodeableConcept"] = Chart.Concept(Chart.RxNorm, "200031", "carvedilol 6.25 MG Oral Tablet"),
                        },
                    }),
                },
            },
            ["prefetch"] = prefetch,
        };
        var (response, raw) = await Post(Requests.OrderSelectId, body);
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards); // a beta-blocker draft is not a mitral intervention or surgery
        raw.Dispose();
    }
}
