using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Prefetch first; what is missing is fetched from the EHR's FHIR server (a real HTTP server on loopback)
/// with the request's token, in parallel, under one deadline.</summary>
public sealed class FhirGatheringTests : IAsyncLifetime
{
    private readonly ServiceFactory _service = new();
    private FakeFhirServer _fhir = null!;

    /// <summary>A COAPT-like patient: severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg, full GDMT.</summary>
    private static Chart Coapt(string id = "p1") => new Chart(id)
        .Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();

    public async ValueTask InitializeAsync() => _fhir = await FakeFhirServer.StartAsync();

    /// <summary>One query per prefetch template when nothing is prefetched.</summary>
    private static readonly int TemplateCount = CdsMitral.Hooks.CdsServices.All(Terminology.Terminology.Embedded)[0].Prefetch.Count;

    public async ValueTask DisposeAsync()
    {
        await _fhir.DisposeAsync();
        await _service.DisposeAsync();
    }

    private ServiceFactory Service(string deadline = "00:00:02") => _service.With("CdsMitral:HookDeadline", deadline);

    [Fact]
    public async Task PatientViewWithoutPrefetchFetchesEverythingFromTheFhirServerWithTheBearerToken()
    {
        _fhir.Add(Coapt().Resources);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl, accessToken: "tok-123"));
        Assert.Equal(200, response.Status);
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Equal(TemplateCount, _fhir.Requests.Count);
        Assert.All(_fhir.Requests, r => Assert.Equal("Bearer tok-123", r.Authorization));
        Assert.Contains(_fhir.Requests, r => r.PathAndQuery.StartsWith("/fhir/Observation?patient=p1&code=", StringComparison.Ordinal));
    }

    /// <summary>Decision 27 of 2026-12-07: behind a proxy that collapses "//" in query strings (smart-launcher-v2's), an
    /// unencoded "http://loinc.org|18043-0" arrives as "http:/loinc.org|18043-0" and matches nothing; encoded, it arrives whole.</summary>
    [Fact]
    public async Task TokenSystemsAreSentPercentEncodedSoAProxyThatMangledSlashesStillFindsTheValues()
    {
        _fhir.Add(Coapt().Resources);
        _fhir.HonoursSearchParameters = true;
        _fhir.MangleDoubleSlashesInQuery = true;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Contains(_fhir.Requests, r => r.PathAndQuery.Contains("http%3A%2F%2Floinc.org%7C18043-0", StringComparison.Ordinal));
        Assert.All(_fhir.Requests, r => Assert.DoesNotContain("://", r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnOpenFhirServerIsCalledWithoutAnAuthorizationHeader()
    {
        _fhir.Add(Coapt().Resources);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.All(_fhir.Requests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task MissingKeysAreFetchedInParallelNotOneAfterAnother()
    {
        _fhir.Add(Coapt().Resources);
        _fhir.Latency = TimeSpan.FromMilliseconds(150);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        Assert.True(_fhir.MaxConcurrentRequests >= 4, $"at most {_fhir.MaxConcurrentRequests} requests were in flight at once");
    }

    [Fact]
    public async Task ANullPrefetchKeyMeansNoDataAndIsNotFetchedAgain()
    {
        var chart = Coapt();
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        prefetch["conditions"] = null;
        prefetch["procedures"] = null;
        prefetch.Remove("patient");
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Equal(["/fhir/Patient/p1"], _fhir.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public async Task AnOperationOutcomeInPrefetchIsFetchedAgainFromTheServer()
    {
        var chart = Coapt();
        _fhir.Add(chart.Resources);
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        prefetch["mrAssessments"] = JsonNode.Parse(FakeFhirServer.OperationOutcome("timeout"));
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Single(_fhir.Requests, r => r.PathAndQuery.Contains("48724000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequiredDataMissingWithoutAFhirServerAnswers412NamingTheKeys()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded);
        prefetch.Remove("echoObservations");
        prefetch.Remove("medicationRequests");
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch));
        Assert.Equal(412, response.Status);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
        Assert.Equal(2, response.Issues.Count);
        Assert.Contains(response.Issues, i => i.Contains("echoObservations", StringComparison.Ordinal) && i.Contains("no fhirServer", StringComparison.Ordinal));
        Assert.Contains(response.Issues, i => i.Contains("medicationRequests", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OptionalDataThatCannotBeHadIsNamedOnTheCardsInsteadOf412()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded, conditionsAndProcedures: false);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch));
        Assert.Equal(200, response.Status);
        var detail = (string)response.Card("smr-coapt-profile")["detail"]!;
        Assert.Contains("Conditions could not be retrieved", detail, StringComparison.Ordinal);
        Assert.Contains("Procedures could not be retrieved", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerErrorOnRequiredDataAnswers412()
    {
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationRequest", StringComparison.Ordinal) ? new FakeReply(500, FakeFhirServer.OperationOutcome("exception")) : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("medicationRequests", StringComparison.Ordinal) && i.Contains("HTTP 500", StringComparison.Ordinal));
        Assert.Equal(3, _fhir.Requests.Count(r => r.PathAndQuery.Contains("MedicationRequest", StringComparison.Ordinal))); // first try + 2 retries
    }

    [Fact]
    public async Task ATransientFailureIsRetriedAndTheHookStillAnswers()
    {
        _fhir.Add(Coapt().Resources);
        _fhir.Responder = (request, count) => request.Path.Value!.EndsWith("MedicationStatement", StringComparison.Ordinal) && count == 0
            ? new FakeReply(503, Headers: new Dictionary<string, string> { ["Retry-After"] = "0" })
            : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Equal(2, _fhir.Requests.Count(r => r.PathAndQuery.Contains("MedicationStatement", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheDeadlineIsNotWaitedFor()
    {
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationStatement", StringComparison.Ordinal)
            ? new FakeReply(429, Headers: new Dictionary<string, string> { ["Retry-After"] = "30" })
            : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Single(_fhir.Requests, r => r.PathAndQuery.Contains("MedicationStatement", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServerSlowerThanTheDeadlineAnswers412()
    {
        _fhir.Latency = TimeSpan.FromSeconds(5);
        var response = await Service(deadline: "00:00:00.300").PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("deadline", StringComparison.Ordinal) || i.Contains("timed out", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task AFhirServerThatRefusesTheTokenAnswers412NamingTheStatusAndIsNotRetried(int status)
    {
        _fhir.Responder = (_, _) => new FakeReply(status, FakeFhirServer.OperationOutcome("security"));
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl, accessToken: "expired"));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains($"HTTP {status}", StringComparison.Ordinal));
        Assert.Equal(TemplateCount, _fhir.Requests.Count);
    }

    [Fact]
    public async Task AServerThatDripsItsAnswerCannotHoldTheHookPastItsDeadline()
    {
        _fhir.Responder = (_, _) => new FakeReply(200, FakeFhirServer.SearchSet([]), DripInterval: TimeSpan.FromMilliseconds(50));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var response = await Service(deadline: "00:00:00.500").PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("deadline", StringComparison.Ordinal));
        // Not a timing target: a guard that the drip (about 4 s per body) was cut, not waited out.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task AResourceOfTheWrongTypeWhereASearchBundleBelongsIsIgnored()
    {
        var chart = Coapt();
        _fhir.Add(chart.Resources);
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationStatement", StringComparison.Ordinal)
            ? new FakeReply(200, """{"resourceType":"Patient","id":"p1"}""")
            : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        // The statements were lost, so two classes (on MedicationStatements in this chart) are now missing.
        Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], response.RuleIds);
    }

    [Fact]
    public async Task ABundleWithoutEntriesIsNoData()
    {
        _fhir.Responder = (_, _) => new FakeReply(200, """{"resourceType":"Bundle","type":"searchset"}""");
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards);
    }

    [Fact]
    public async Task AMalformedResponseBodyCountsAsAFailedQuery()
    {
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("Observation", StringComparison.Ordinal) ? new FakeReply(200, "{\"resourceType\":\"Bundle\",\"entry\":[") : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AResponseThatIsNotValidUtf8CountsAsAFailedQuery()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("""{"resourceType":"Bundle","type":"searchset","id":"XX"}""");
        bytes[Array.IndexOf(bytes, (byte)'X')] = 0xCD; // a lead byte followed by ASCII
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationRequest", StringComparison.Ordinal) ? new FakeReply(RawBody: bytes) : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("not valid UTF-8", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARedirectIsNotFollowedSoTheTokenCannotBeBouncedElsewhere()
    {
        await using var elsewhere = await FakeFhirServer.StartAsync();
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationRequest", StringComparison.Ordinal)
            ? new FakeReply(302, Headers: new Dictionary<string, string> { ["Location"] = $"{elsewhere.BaseUrl}/MedicationRequest" })
            : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl, accessToken: "tok"));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("HTTP 302", StringComparison.Ordinal));
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task AConnectionDroppedByTheServerCountsAsAFailedQuery()
    {
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("Observation", StringComparison.Ordinal) ? new FakeReply(Abort: true) : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
    }

    [Fact]
    public async Task AWrongResourceTypeFromTheServerIsNotMistakenForData()
    {
        _fhir.Add(Coapt().Resources);
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationRequest", StringComparison.Ordinal)
            ? new FakeReply(200, FakeFhirServer.OperationOutcome("forbidden"))
            : null;
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("OperationOutcome", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SearchResultsAreFollowedThroughNextLinksAndNeverTrustedForOrder()
    {
        // Page 1 holds an old LVEF of 55 %; page 2 the current one of 32 %. Only reading both gives the COAPT card.
        var chart = Coapt();
        var lvefNew = chart.Resources.First(r => (string?)r["code"]!["coding"]![0]!["code"] == "18043-0");
        var old = new Chart("p1").Lvef(55, "2023-01-01", id: "old-lvef").Resources[0];
        var others = chart.Resources.Where(r => r != lvefNew && (string?)r["resourceType"] == "Observation" && (string?)r["code"]!["coding"]![0]!["code"] != "48724000").ToList();
        _fhir.Add(chart.Resources.Where(r => (string?)r["resourceType"] != "Observation" || (string?)r["code"]!["coding"]![0]!["code"] == "48724000"));
        _fhir.Responder = (request, _) =>
        {
            if (!request.Path.Value!.EndsWith("Observation", StringComparison.Ordinal) || request.QueryString.Value!.Contains("48724000", StringComparison.Ordinal))
            {
                return null;
            }
            return request.Query.ContainsKey("page")
                ? new FakeReply(200, FakeFhirServer.SearchSet([lvefNew], total: others.Count + 2))
                : new FakeReply(200, FakeFhirServer.SearchSet(others.Append(old), total: others.Count + 2, next: $"{_fhir.BaseUrl}/Observation?page=2"));
        };
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Contains(_fhir.Requests, r => r.PathAndQuery == "/fhir/Observation?page=2");
    }

    [Fact]
    public async Task ANextLinkToAnotherHostIsNotFollowed()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded);
        prefetch["echoObservations"]!["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = "http://127.0.0.2:9/fhir/Observation?page=2" });
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        Assert.Contains("outside the FHIR server", (string)response.Card("smr-coapt-profile")["detail"]!, StringComparison.Ordinal);
        Assert.Empty(_fhir.Requests);
    }

    [Fact]
    public async Task APagingLoopIsDetectedAndStopped()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded);
        var loop = $"{_fhir.BaseUrl}/Observation?page=2";
        prefetch["echoObservations"]!["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = loop });
        _fhir.Responder = (_, _) => new FakeReply(200, FakeFhirServer.SearchSet([], next: loop));
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        Assert.Single(_fhir.Requests);
        Assert.Contains("looped", (string)response.Card("smr-coapt-profile")["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagingStopsAtTheConfiguredCapAndTheCardSaysResultsMayBeMissing()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded);
        prefetch["echoObservations"]!["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = $"{_fhir.BaseUrl}/Observation?page=2" });
        _fhir.Responder = (request, _) =>
        {
            var page = int.Parse(request.Query["page"]!, System.Globalization.CultureInfo.InvariantCulture);
            return new FakeReply(200, FakeFhirServer.SearchSet([], next: $"{_fhir.BaseUrl}/Observation?page={page + 1}"));
        };
        var response = await Service().With("CdsMitral:FhirMaxPages", "3").PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(200, response.Status);
        Assert.Equal(2, _fhir.Requests.Count); // pages 2 and 3; page 1 came in the prefetch
        Assert.Contains("more pages than the cap of 3", (string)response.Card("smr-coapt-profile")["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResponseLargerThanTheCapIsRefusedNotRead()
    {
        _fhir.Add(Coapt().Resources);
        var huge = $$"""{"resourceType":"Bundle","type":"searchset","entry":[],"padding":"{{new string('x', 5000)}}"}""";
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("MedicationRequest", StringComparison.Ordinal) ? new FakeReply(200, huge) : null;
        var response = await Service().With("CdsMitral:FhirMaxResponseBytes", "2048").PostAsync(Requests.PatientViewId, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("larger than 2048 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APrefetchCutShortWithoutANextLinkIsFetchedWhole()
    {
        // The CDS Hooks Sandbox passes only the first page: total says 5, one entry arrived, no next link.
        var chart = Coapt();
        _fhir.Add(chart.Resources);
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        prefetch["echoObservations"] = new JsonObject
        {
            ["resourceType"] = "Bundle", ["type"] = "searchset", ["total"] = 5,
            ["entry"] = new JsonArray(new JsonObject { ["resource"] = new Chart("p1").Lvef(55, "2023-01-01", id: "old-lvef").Resources[0].DeepClone() }),
        };
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.Single(_fhir.Requests, r => r.PathAndQuery.Contains("29438-9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReadOfAPatientThatDoesNotExistIsNoDataNotAFailure()
    {
        var prefetch = Coapt().Prefetch(Terminology.Terminology.Embedded);
        prefetch.Remove("patient");
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.DoesNotContain("could not be retrieved", (string)response.Card("smr-coapt-profile")["detail"]!, StringComparison.Ordinal);
    }

    /// <summary>Decision 3 of 2026-11-28: an Epic-style request that names its drug by reference to Medication/{id}.</summary>
    private static Chart CoaptWithReferencedMra(string reference)
    {
        var chart = new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01")
            .Medication("200031", "carvedilol 6.25 MG Oral Tablet").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin");
        return chart.Add(new JsonObject
        {
            ["resourceType"] = "MedicationRequest", ["id"] = "eplerenone-order", ["status"] = "active", ["intent"] = "order",
            ["medicationReference"] = new JsonObject { ["reference"] = reference, ["display"] = "eplerenone 25 mg tablet" },
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        });
    }

    private static readonly JsonObject Eplerenone = new()
    {
        ["resourceType"] = "Medication", ["id"] = "eplerenone-25",
        ["code"] = Chart.Concept(Chart.RxNorm, "351256", "eplerenone 25 MG Oral Tablet"),
    };

    [Fact]
    public async Task AReferencedMedicationThePrefetchLacksIsReadFromTheFhirServer()
    {
        var chart = CoaptWithReferencedMra("Medication/eplerenone-25");
        _fhir.Add([Eplerenone]);
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl, "tok-9"));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        var read = Assert.Single(_fhir.Requests, r => r.PathAndQuery.Contains("Medication", StringComparison.Ordinal));
        Assert.Equal("/fhir/Medication/eplerenone-25", read.PathAndQuery);
        Assert.Equal("Bearer tok-9", read.Authorization);
    }

    [Fact]
    public async Task AMedicationIncludedInThePrefetchBundleIsNotReadAgain()
    {
        var chart = CoaptWithReferencedMra("Medication/eplerenone-25");
        var prefetch = chart.Prefetch(Terminology.Terminology.Embedded);
        var bundle = prefetch["medicationRequests"]!.AsObject();
        bundle["entry"]!.AsArray().Add(new JsonObject { ["resource"] = Eplerenone.DeepClone(), ["search"] = new JsonObject { ["mode"] = "include" } });
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", prefetch, _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile"], response.RuleIds);
        Assert.DoesNotContain(_fhir.Requests, r => r.PathAndQuery.Contains("Medication/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReferenceToAnotherServerIsNotFollowedAndTheCardSaysTheAbsenceIsOfARecognisedDrug()
    {
        var chart = CoaptWithReferencedMra("https://elsewhere.example/fhir/Medication/eplerenone-25");
        _fhir.Add([Eplerenone]);
        var response = await Service().PostAsync(Requests.PatientViewId, Requests.PatientView("p1", chart.Prefetch(Terminology.Terminology.Embedded), _fhir.BaseUrl));
        Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], response.RuleIds);
        Assert.Contains("no recognised MRA", (string)response.Card("smr-gdmt-gap")["summary"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(_fhir.Requests, r => r.PathAndQuery.Contains("Medication/", StringComparison.Ordinal));
    }
}
