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

    private static async Task<HookResponse> PostBytes(ServiceFactory factory, byte[] body, bool chunked = false, string path = Path, string? contentType = "application/json")
    {
        using var client = factory.CreateSignedClient();
        client.DefaultRequestHeaders.TransferEncodingChunked = chunked;
        using HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        // Set without validation: the point is to send what a careless or hostile client would.
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await client.PostAsync(path, content);
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
    public async Task DuplicateKeysAreRefusedRatherThanGuessedAtNamingTheKeyAndItsLine()
    {
        var body = """{"hook":"patient-view","hook":"order-select","hookInstance":"x","context":{"userId":"Practitioner/1","patientId":"p1"}}""";
        AssertRejected(await service.PostRawAsync(Path, body), 400, "$.hook (line 1) appears twice");
        var inContext = "{\"hook\":\"patient-view\",\"hookInstance\":\"x\",\n\"context\":{\"userId\":\"Practitioner/1\",\n\"patientId\":\"p1\",\n\"patientId\":\"p2\"}}";
        AssertRejected(await service.PostRawAsync(Path, inContext), 400, "$.context.patientId (line 4) appears twice");
        var feedback = "{\"feedback\":[{\"card\":\"c1\",\n\"card\":\"c2\"}]}";
        AssertRejected(await service.PostRawAsync(Path + "/feedback", feedback), 400, "$.feedback[0].card (line 2) appears twice");
    }

    /// <summary>A lone surrogate escape parses, but no string holding it can be read: it used to surface as a 500.</summary>
    [Theory]
    [InlineData("\"hookInstance\":\"\\ud800\"", "$.hookInstance (line 3)")]
    [InlineData("\"hookInstance\":\"x\\uDFFFy\"", "$.hookInstance (line 3)")]
    [InlineData("\"hookInstance\":\"\\ud800\\u0041\"", "$.hookInstance (line 3)")] // a high surrogate, then not a low one
    [InlineData("\"hookInstance\":\"\\udc00\\ud800\"", "$.hookInstance (line 3)")] // a pair the wrong way round
    [InlineData("\"hookInstance\":\"x\",\"extension\":{\"\\ud83d\":1}", "$.extension['\\ud83d'] (a member name) (line 3)")]
    [InlineData("\"hookInstance\":\"x\",\"extension\":{\"a\":[1,{\"b\":\"\\ud83d\\\\ude00\"}]}", "$.extension.a[1].b (line 3)")] // an escaped backslash breaks the pair
    public async Task ALoneSurrogateEscapeInAHookRequestAnswers400NamingWhere(string member, string mentions)
    {
        var body = "{\n\"hook\":\"patient-view\",\n" + member + ",\n\"context\":{\"userId\":\"Practitioner/1\",\"patientId\":\"p1\"}}";
        var response = await service.PostRawAsync(Path, body);
        AssertRejected(response, 400, mentions);
        Assert.Contains(response.Issues, i => i.Contains("is not valid Unicode", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALoneSurrogateInAPrefetchedResourceIsTheClientsErrorAnd400()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01", unit: "UNIT-MARK");
        var text = Requests.PatientView("p1", chart.Prefetch(Terminology.Terminology.Embedded)).ToJsonString().Replace("UNIT-MARK", "\\ud800", StringComparison.Ordinal);
        var response = await service.PostRawAsync(Path, text);
        AssertRejected(response, 400, "$.prefetch.echoObservations.entry[0].resource.valueQuantity.unit (line 1)");
        Assert.Contains("$.prefetch.echoObservations.entry[0].resource.valueQuantity.unit", response.Json["issue"]![0]!["expression"]![0]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoneSurrogateInFeedbackAnswers400NamingWhere()
    {
        var body = "{\"feedback\":[{\"card\":\"c1\",\"outcome\":\"overridden\",\"outcomeTimestamp\":\"2026-11-21T12:00:00Z\",\n\"overrideReason\":{\"userComment\":\"\\uD800 no\"}}]}";
        AssertRejected(await service.PostRawAsync(Path + "/feedback", body), 400, "$.feedback[0].overrideReason.userComment (line 2) is not valid Unicode");
    }

    [Fact]
    public async Task ARefusedSurrogateLeavesAnAuditRecordLikeOther400s()
    {
        await using var audited = new ServiceFactory().Audited(Store.Sqlite);
        var body = """{"hook":"patient-view","hookInstance":"\ud800","context":{"userId":"Practitioner/1","patientId":"p1"}}""";
        AssertRejected(await audited.PostRawAsync(Path, body), 400, "not valid Unicode");
        var item = Assert.Single((await audited.AuditApi("/audit/api/invocations"))["items"]!.AsArray())!;
        Assert.Equal(400, (int)item["status"]!);
        var record = (await audited.AuditApi($"/audit/api/invocations/{item["eventId"]}"))["record"]!;
        Assert.Contains("$.hookInstance (line 1) is not valid Unicode", (string)record["reason"]!, StringComparison.Ordinal);
    }

    /// <summary>FHIR strings may not hold control characters below U+0020 but tab, CR and LF; and PostgreSQL text cannot
    /// hold NUL at all, so a "\u0000" in hookInstance or a feedback card id used to break the audit store.</summary>
    [Fact]
    public async Task ANulEscapeInAClientStringAnswers400NamingWhere()
    {
        var hook = """{"hook":"patient-view","hookInstance":"a\u0000b","context":{"userId":"Practitioner/1","patientId":"p1"},"prefetch":{}}""";
        AssertRejected(await service.PostRawAsync(Path, hook), 400, "$.hookInstance (line 1) holds U+0000 (NUL)");
        var feedback = """{"feedback":[{"card":"c\u0000","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"x"}}]}""";
        AssertRejected(await service.PostRawAsync(Path + "/feedback", feedback), 400, "$.feedback[0].card (line 1) holds U+0000 (NUL)");
        // An escaped backslash before "u0000" is text, not a NUL.
        var text = """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000004","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"C:\\u0000"}}]}""";
        Assert.Equal(200, (await service.PostRawAsync(Path + "/feedback", text)).Status);
    }

    [Fact]
    public async Task ANulEscapeNeverReachesThePostgresAuditStore()
    {
        Requires.Postgres();
        await using var audited = new ServiceFactory().Audited(Store.Postgres);
        var hook = """{"hook":"patient-view\u0000","hookInstance":"a\u0000b","context":{"userId":"Practitioner/1","patientId":"p1"}}""";
        AssertRejected(await audited.PostRawAsync(Path, hook), 400, "holds U+0000");
        var feedback = """{"feedback":[{"card":"c\u0000","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"x"}}]}""";
        AssertRejected(await audited.PostRawAsync(Path + "/feedback", feedback), 400, "holds U+0000");
        // Both refusals (the hook's and the feedback's) are in the store itself, not in the spool waiting for a write
        // that can never succeed.
        var items = (await audited.AuditApi("/audit/api/invocations"))["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.All(items, item => Assert.Equal(400, (int)item!["status"]!));
    }

    /// <summary>RFC 8259 §8.1: senders must not add a BOM, parsers may ignore it. The service ignores one at the start;
    /// anywhere else outside a string it is not JSON.</summary>
    [Fact]
    public async Task AByteOrderMarkBeforeTheBodyIsIgnoredButOneInsideItIsRefused()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];
        var hook = await PostBytes(service, [.. bom, .. Encoding.UTF8.GetBytes(ValidBody())]);
        Assert.Equal(200, hook.Status);
        var feedback = """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000002","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"seen"}}]}""";
        Assert.Equal(200, (await PostBytes(service, [.. bom, .. Encoding.UTF8.GetBytes(feedback)], path: Path + "/feedback")).Status);

        var inside = Encoding.UTF8.GetBytes(ValidBody());
        var comma = Array.IndexOf(inside, (byte)',');
        AssertRejected(await PostBytes(service, [.. inside[..comma], .. bom, .. inside[comma..]]), 400, "malformed JSON near line 1");
        AssertRejected(await PostBytes(service, [.. bom, .. bom, .. inside]), 400, "malformed JSON near line 1");
    }

    [Theory]
    [InlineData("application/json", 200)]
    [InlineData("application/json; charset=utf-8", 200)]
    [InlineData("Application/JSON; Charset=UTF-8", 200)]
    [InlineData("application/json; charset=\"utf-8\"", 200)]
    [InlineData("application/evil+json", 415)]
    [InlineData("application/fhir+json", 415)]
    [InlineData("text/plain", 415)]
    [InlineData("text/plain; charset=utf-8", 415)]
    [InlineData("application/json; charset=latin1", 415)]
    [InlineData("application/json; charset=utf-16", 415)]
    [InlineData("application/x-www-form-urlencoded", 415)]
    [InlineData(null, 415)]
    public async Task HooksAndFeedbackAcceptTheSameContentTypes(string? contentType, int status)
    {
        var feedback = """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000003","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"seen"}}]}""";
        foreach (var (path, body) in new[] { (Path, ValidBody()), (Path + "/feedback", feedback) })
        {
            var response = await PostBytes(service, Encoding.UTF8.GetBytes(body), path: path, contentType: contentType);
            Assert.True(status == response.Status, $"{path} with {contentType ?? "no Content-Type"}: {response.Status} {response.Body}");
            if (status == 415)
            {
                AssertRejected(response, 415, "must be sent as Content-Type: application/json, with no charset or charset=utf-8");
            }
        }
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

    /// <summary>A FHIR server's bad string is not the client's fault: the resource holding it is left out, named in the
    /// card's data notes, and the hook is answered from the rest of the chart.</summary>
    [Fact]
    public async Task AFhirResourceWithALoneSurrogateIsNamedUnusableAndTheHookIsStillAnswered()
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        var echo = prefetch["echoObservations"]!.AsObject();
        prefetch.Remove("echoObservations");
        // A newer LVEF of 60 % would end the COAPT profile if it were read; its unit, which the snapshot reads, is broken.
        var newer = new Chart().Lvef(60, "2026-11-01", unit: "UNIT-MARK", id: "bad-text").Resources[0];
        echo["entry"]!.AsArray().Add(new JsonObject { ["resource"] = newer.DeepClone() });
        fhir.Responder = (request, _) => request.Path.Value!.EndsWith("/Observation", StringComparison.Ordinal)
            ? new FakeReply(200, echo.ToJsonString().Replace("UNIT-MARK", "\\ud800", StringComparison.Ordinal))
            : null;

        var response = await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, fhir.BaseUrl));

        Assert.Equal(200, response.Status);
        Assert.Contains("smr-coapt-profile", response.RuleIds);
        Assert.Contains("Observation/bad-text contains text that is not valid Unicode; not used.", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFhirResponseWithALoneSurrogateOutsideItsResourcesCountsAsAFailedRead()
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01");
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        var echo = prefetch["echoObservations"]!.AsObject();
        prefetch.Remove("echoObservations");
        echo["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = "URL-MARK" });
        fhir.Responder = (_, _) => new FakeReply(200, echo.ToJsonString().Replace("URL-MARK", "http://x/\\udfff", StringComparison.Ordinal));

        var response = await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, fhir.BaseUrl));

        // echoObservations is required: with its only source unreadable, the call cannot be answered (412, not 500).
        AssertRejected(response, 412, "text that is not valid Unicode at $.link[0].url");
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
