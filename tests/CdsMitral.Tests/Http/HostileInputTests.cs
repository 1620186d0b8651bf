using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Bodies built to hurt: too large, too deep, not UTF-8, ambiguous, of the wrong types. Always a 4xx with an
/// OperationOutcome, never a 5xx, never a stack trace.</summary>
public sealed class HostileInputTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private const string Path = "/cds-services/secondary-mr-patient-view";

    private static string ValidBody() => Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded)).ToJsonString();

    private static async Task<HookResponse> PostBytes(ServiceFactory factory, byte[] body, bool chunked = false)
    {
        using var client = factory.CreateSignedClient();
        using HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(Path, content);
        return await HookResponse.ReadAsync(response);
    }

    private static void AssertRejected(HookResponse response, int status, string mentions)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
        Assert.Contains(response.Issues, i => i.Contains(mentions, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(" at CdsMitral", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABodyOverTheLimitAnswers413WhetherOrNotItDeclaresItsLength(bool chunked)
    {
        await using var small = new ServiceFactory().With("CdsMitral:MaxRequestBodyBytes", "4096");
        var request = JsonNode.Parse(ValidBody())!;
        request["extension"] = new JsonObject { ["org.example.padding"] = new string('x', 8000) };
        var body = Encoding.UTF8.GetBytes(request.ToJsonString());
        AssertRejected(await PostBytes(small, body, chunked), 413, "larger than 4096 bytes");
    }

    [Fact]
    public async Task DuplicateKeysAreRefusedRatherThanGuessedAt()
    {
        var body = """{"hook":"patient-view","hook":"order-select","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1"}}""";
        AssertRejected(await service.PostRawAsync(Path, body), 400, "malformed");
        var inContext = """{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1","patientId":"p2"}}""";
        AssertRejected(await service.PostRawAsync(Path, inContext), 400, "malformed");
    }

    [Fact]
    public async Task DeeplyNestedJsonIsRefused()
    {
        var deep = new string('[', 500) + new string(']', 500);
        var body = """{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1"},"extension":{"x":""" + deep + "}}";
        AssertRejected(await service.PostRawAsync(Path, body), 400, "malformed");
    }

    [Fact]
    public async Task InvalidUtf8IsRefused()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"hook":"patient-view","hookInstance":"XX","context":{"userId":"Practitioner/1","patientId":"p1"}}""");
        var at = Array.IndexOf(bytes, (byte)'X');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28; // an invalid two-byte sequence
        AssertRejected(await PostBytes(service, bytes), 400, "not valid UTF-8");
    }

    [Fact]
    public async Task InvalidUtf8InsideAPrefetchedStringIsRefusedNotCarriedIntoTheRules()
    {
        // Found by the fuzz test: the reader stores such strings undecoded, so they blew up later as a 500.
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01", id: "bad-utf8");
        var bytes = Encoding.UTF8.GetBytes(Requests.PatientView("p1", chart.Prefetch(Terminology.Terminology.Embedded)).ToJsonString());
        var at = IndexOf(bytes, Encoding.UTF8.GetBytes("bad-utf8"));
        bytes[at] = 0xCD; // a lead byte followed by ASCII: invalid
        AssertRejected(await PostBytes(service, bytes), 400, "UTF-8");
    }

    private static int IndexOf(byte[] haystack, byte[] needle) =>
        Enumerable.Range(0, haystack.Length - needle.Length).First(i => haystack.AsSpan(i, needle.Length).SequenceEqual(needle));

    [Theory]
    [InlineData("""{"hook":["patient-view"],"hookInstance":"x","context":{}}""", "$.hook")]
    [InlineData("""{"hook":"patient-view","hookInstance":"x","context":"p1"}""", "context is required and must be an object")]
    [InlineData("""{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":42}}""", "context.patientId must be a non-empty string")]
    [InlineData("""{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1"},"prefetch":"all of it"}""", "$.prefetch")]
    [InlineData("""{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1"},"fhirServer":{"url":"x"}}""", "$.fhirServer")]
    [InlineData("""{"hook":"patient-view","hookInstance":12345678901234567890123,"context":{}}""", "$.hookInstance")]
    [InlineData("""{"hook":"patient-view","hookInstance":"x","context":{},"fhirAuthorization":{"access_token":7}}""", "$.fhirAuthorization.access_token")]
    [InlineData("{\n\"hook\":\"patient-view\",\n\"hookInstance\":\"x\",\n\"fhirServer\":[]}", "$.fhirServer (line 4)")]
    public async Task ValuesOfTheWrongTypeAnswer400NamingWhere(string body, string mentions)
    {
        AssertRejected(await service.PostRawAsync(Path, body), 400, mentions);
    }

    [Fact]
    public async Task AHugeNumberInsideAPrefetchedResourceMakesThatResourceUnusableNotTheCall()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01", id: "huge");
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        var text = Requests.PatientView("p1", prefetch).ToJsonString().Replace("\"value\":32", "\"value\":1e400", StringComparison.Ordinal);
        var response = await service.PostRawAsync(Path, text);
        Assert.Equal(200, response.Status);
        Assert.Contains("Observation/huge is not readable as FHIR R4", (string)response.Card("smr-data-gaps")["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APrefetchValueThatIsNotAResourceIsTreatedAsMissing()
    {
        var request = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded));
        request["prefetch"]!["echoObservations"] = "not a bundle";
        var response = await service.PostAsync(Requests.PatientViewId, request);
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("not a FHIR resource", StringComparison.Ordinal));
    }
}
