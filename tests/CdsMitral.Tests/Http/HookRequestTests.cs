using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>What an EHR sends, and how the service answers it: spec-exact acceptance, clear OperationOutcome errors.</summary>
public sealed class HookRequestTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private static JsonObject Example(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SpecExamples", name + ".json")))!.AsObject();

    /// <summary>A request with every required key prefetched and empty: the service can answer without a FHIR server.</summary>
    private static JsonObject EmptyPrefetch() => new()
    {
        ["patient"] = null,
        ["echoObservations"] = Chart.Bundle([]),
        ["mrAssessments"] = Chart.Bundle([]),
        ["medicationStatements"] = null,
        ["medicationRequests"] = Chart.Bundle([]),
        ["conditions"] = null,
        ["procedures"] = null,
    };

    private static void AssertOperationOutcome(HookResponse response, int status, string mentions)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
        Assert.Contains(response.Issues, i => i.Contains(mentions, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APatientWithNothingOnRecordGetsAnEmptyCardList()
    {
        var response = await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", EmptyPrefetch()));
        Assert.Equal(200, response.Status);
        Assert.Equal("""{"cards":[]}""", response.Body);
    }

    [Fact]
    public async Task PostingToAnUnknownServiceAnswers404WithAnOperationOutcome()
    {
        var response = await service.PostAsync("no-such-service", Requests.PatientView("p1", EmptyPrefetch()));
        AssertOperationOutcome(response, 404, "no-such-service");
    }

    [Fact]
    public async Task ABodyThatIsNotJsonContentAnswers415()
    {
        var response = await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", EmptyPrefetch()), "text/plain");
        AssertOperationOutcome(response, 415, "application/json");
    }

    [Theory]
    [InlineData("{\"hook\": \"patient-view\",", "malformed JSON")]
    [InlineData("{\"hook\": 42, \"hookInstance\": \"x\", \"context\": {}}", "$.hook")]
    [InlineData("[1, 2, 3]", "malformed")]
    [InlineData("null", "JSON null")]
    [InlineData("{\"hook\":\"patient-view\",\"hookInstance\":\"x\",\"context\":{\"userId\":\"Practitioner/1\",\"patientId\":\"p1\"},\"fhirAuthorization\":{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":1e40}}", "expires_in")]
    public async Task MalformedBodiesAnswer400WithAnOperationOutcome(string body, string mentions)
    {
        var response = await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}", body);
        AssertOperationOutcome(response, 400, mentions);
    }

    [Fact]
    public async Task AHookThatDoesNotMatchTheServiceAnswers400()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request["hook"] = "order-sign";
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, "does not match");
    }

    [Theory]
    [InlineData("patientId", "context.patientId is required")]
    [InlineData("userId", "context.userId is required")]
    public async Task AMissingRequiredContextFieldAnswers400NamingIt(string field, string message)
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request["context"]!.AsObject().Remove(field);
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, message);
    }

    [Theory]
    [InlineData("p1&_include=*")]
    [InlineData("../Patient/other")]
    [InlineData("")]
    public async Task APatientIdThatIsNotAFhirIdIsRefusedBeforeAnyQueryIsBuilt(string patientId)
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request["context"]!["patientId"] = patientId;
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, "patientId");
    }

    [Fact]
    public async Task AMissingHookInstanceAnswers400()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request.Remove("hookInstance");
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, "hookInstance");
    }

    [Fact]
    public async Task AnAccessTokenWithoutAFhirServerIsInvalid()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch(), accessToken: "secret-token");
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, "without fhirServer");
    }

    [Fact]
    public async Task AFhirServerThatIsNotAnHttpUrlIsInvalid()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch(), fhirServer: "file:///etc/passwd");
        AssertOperationOutcome(await service.PostAsync(Requests.PatientViewId, request), 400, "fhirServer");
    }

    [Fact]
    public async Task OrderSelectWithoutSelectionsAnswers400()
    {
        var request = Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], EmptyPrefetch());
        request["context"]!.AsObject().Remove("selections");
        AssertOperationOutcome(await service.PostAsync(Requests.OrderSelectId, request), 400, "selections");
    }

    [Fact]
    public async Task OrderSelectWithoutDraftOrdersAnswers400()
    {
        var request = Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], EmptyPrefetch());
        request["context"]!["draftOrders"] = new JsonObject { ["resourceType"] = "Patient" };
        AssertOperationOutcome(await service.PostAsync(Requests.OrderSelectId, request), 400, "draftOrders");
    }

    [Fact]
    public async Task UnknownMembersAndExtensionsAreAccepted()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request["extension"] = new JsonObject { ["com.example.timestamp"] = "2017-11-27T22:13:25Z" };
        request["somethingNew"] = 1;
        request["context"]!["extension"] = new JsonObject { ["org.example.flag"] = true };
        request["prefetch"]!["notOurs"] = new JsonObject { ["resourceType"] = "Patient", ["id"] = "p1" };
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, request)).Status);
    }

    [Fact]
    public async Task ANonUuidHookInstanceIsAcceptedAsTheSandboxTestsSendOne()
    {
        var request = Requests.PatientView("p1", EmptyPrefetch());
        request["hookInstance"] = "123";
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, request)).Status);
    }

    [Fact]
    public async Task TheSpecsPatientViewExampleIsAcceptedAndAnsweredFromItsFhirServer()
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        var request = Example("spec20-02-request-patient-view-full");
        request["fhirServer"] = fhir.BaseUrl; // the example's host is not reachable from here
        var response = await service.PostAsync(Requests.PatientViewId, request);
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards);
        Assert.All(fhir.Requests, r => Assert.Equal("Bearer some-opaque-fhir-access-token", r.Authorization));
    }

    [Fact]
    public async Task TheSpecsExtensionExampleIsRejectedBecauseItHasNoPatientId()
    {
        var response = await service.PostAsync(Requests.PatientViewId, Example("spec20-26-request-with-extension"));
        AssertOperationOutcome(response, 400, "context.patientId is required");
        Assert.DoesNotContain(response.Issues, i => i.Contains("extension", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("lib-patient-view-01-context", Requests.PatientViewId, "patient-view")]
    [InlineData("lib-patient-view-02-context-with-encounter", Requests.PatientViewId, "patient-view")]
    [InlineData("lib-order-select-01-context-R4", Requests.OrderSelectId, "order-select")]
    [InlineData("lib-order-select-02-context-STU3", Requests.OrderSelectId, "order-select")]
    [InlineData("lib-order-select-03-context-DSTU2", Requests.OrderSelectId, "order-select")]
    public async Task TheHookLibraryContextsAreAcceptedWhateverTheirFhirVersion(string example, string serviceId, string hook)
    {
        var request = new JsonObject
        {
            ["hook"] = hook,
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = Example(example)["context"]!.DeepClone(),
            ["prefetch"] = EmptyPrefetch(),
        };
        var response = await service.PostAsync(serviceId, request);
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards); // diets and antibiotics are not mitral interventions
    }

    [Fact]
    public async Task AnOrderSignRequestSentToThePatientViewServiceIsRejected()
    {
        var response = await service.PostAsync(Requests.PatientViewId, Example("ci-04-request-order-sign-pagination"));
        AssertOperationOutcome(response, 400, "order-sign");
    }

    [Fact]
    public async Task ASandboxShapedDraftOrdersBundleWithoutTypeIsAccepted()
    {
        var request = Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], EmptyPrefetch());
        request["context"]!["draftOrders"]!.AsObject().Remove("type");
        var response = await service.PostAsync(Requests.OrderSelectId, request);
        Assert.Equal(200, response.Status);
        Assert.Equal(["smr-order-teer"], response.RuleIds);
    }

    [Fact]
    public async Task ASandboxMedicationDraftThatIsNotValidR4IsIgnoredNotACrash()
    {
        // The Sandbox's Rx View sends category and reasonCode as single objects where R4 has arrays.
        var draft = new JsonObject
        {
            ["resourceType"] = "MedicationRequest",
            ["id"] = "request-123",
            ["status"] = "draft",
            ["category"] = new JsonObject { ["text"] = "outpatient" },
            ["reasonCode"] = new JsonObject { ["text"] = "HF" },
            ["medicationCodeableConcept"] = Chart.Concept(Chart.RxNorm, "200031", "carvedilol 6.25 MG Oral Tablet"),
        };
        var request = Requests.OrderSelect("p1", [draft], ["MedicationRequest/request-123"], EmptyPrefetch());
        var response = await service.PostAsync(Requests.OrderSelectId, request);
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Cards);
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsAnswerWithAnOperationOutcome()
    {
        using var client = service.CreateSignedClient();
        using var notFound = await client.GetAsync("/nothing-here");
        var nf = await HookResponse.ReadAsync(notFound);
        AssertOperationOutcome(nf, 404, "/nothing-here");
        using var wrongMethod = await client.DeleteAsync("/cds-services");
        var wm = await HookResponse.ReadAsync(wrongMethod);
        AssertOperationOutcome(wm, 405, "DELETE");
    }
}
