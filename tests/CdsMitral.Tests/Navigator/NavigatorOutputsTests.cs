using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Navigator;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Conformance;
using CdsMitral.Tests.Samples;
using CdsMitral.Tests.Support;

using static CdsMitral.Tests.Navigator.NavigatorFixtures;

namespace CdsMitral.Tests.Navigator;

/// <summary>
/// What the Navigator writes back is valid FHIR R4 as the Firely reference validator judges it: the published
/// Questionnaire, the QuestionnaireResponse of every result, and the draft ServiceRequest; and the Questionnaire in
/// fhir-profiles/ is the one the code builds (regenerate with CDSMITRAL_WRITE_GOLDEN=1).
/// </summary>
[Trait("Category", "Validation")]
public sealed class NavigatorOutputsTests(FhirValidator validator) : IClassFixture<FhirValidator>
{
    private const string QuestionnaireFile = "fhir-profiles/Questionnaire-secondary-mr-navigator.json";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The shared full answers, with the mechanism confirmed and an MRA that is not tolerated, so every item of
    /// the QuestionnaireResponse is exercised.</summary>
    private static NavigatorAnswers Full(string user = "Practitioner/dr-a") => NavigatorFixtures.Full(user) with
    {
        Mechanism = MechanismAnswer.SecondaryVentricular,
        Mra = PillarAnswer.ContraindicatedOrNotTolerated,
    };

    private void AssertValid(string what, JsonNode resource)
    {
        var errors = FhirValidator.Errors(validator.Validate(resource));
        Assert.True(errors.Count == 0, FhirValidator.Describe(what, errors) + "\n" + resource.ToJsonString(Indented));
    }

    [Fact]
    public void ThePublishedQuestionnaireIsTheOneTheCodeBuildsAndIsValidR4()
    {
        var built = NavigatorOutputs.Questionnaire().ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
        var path = Repo.PathOf(QuestionnaireFile.Split('/'));
        if (Environment.GetEnvironmentVariable("CDSMITRAL_WRITE_GOLDEN") == "1")
        {
            File.WriteAllText(path, built);
        }
        Assert.True(File.Exists(path) && File.ReadAllText(path) == built,
            $"{QuestionnaireFile} is out of step with NavigatorQuestions; regenerate with CDSMITRAL_WRITE_GOLDEN=1");
        AssertValid(QuestionnaireFile, JsonNode.Parse(built)!);
    }

    [Fact]
    public void EveryQuestionOfThePagesIsAnItemOfTheQuestionnaireWithTheSameAnswerCodes()
    {
        var items = NavigatorOutputs.Questionnaire()["item"]!.AsArray().SelectMany(g => g!["item"]?.AsArray().ToList() ?? [g]).ToDictionary(i => (string)i!["linkId"]!);
        Assert.Equal(NavigatorQuestions.All.Count + 2, items.Count); // and the result and the attestation
        foreach (var q in NavigatorQuestions.All)
        {
            var codes = items[q.LinkId]!["answerOption"]!.AsArray().Select(o => (string)o!["valueCoding"]!["code"]!);
            Assert.Equal(q.Options.Select(o => o.Code), codes);
        }
    }

    public static TheoryData<string, bool> Cases() => new()
    {
        { "coapt-profile", true }, { "coapt-profile", false }, { "coapt-gdmt-gap", false }, { "outside-range-lvesd", true },
        { "mechanism-unknown", true }, { "silent-primary-mr", true }, { "silent-mild-mr", true }, { "stale-echo", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheQuestionnaireResponseAndTheDraftServiceRequestAreValidR4(string sample, bool answered)
    {
        var answers = answered ? Full() : NavigatorAnswers.None("Practitioner/dr-a", Now);
        var view = NavigatorPathway.Evaluate(Sample(sample), answers, Now);
        var qr = NavigatorOutputs.QuestionnaireResponse(sample, answers, view);
        var sr = NavigatorOutputs.ServiceRequest(sample, answers, view, "QuestionnaireResponse/qr-1");
        AssertValid($"QuestionnaireResponse of {sample}", qr);
        AssertValid($"ServiceRequest of {sample}", sr);
        Assert.Equal(NavigatorPathway.CodeOf(view.Result), (string?)qr["item"]!.AsArray().Single(i => (string?)i!["linkId"] == NavigatorOutputs.ResultLinkId)!["answer"]![0]!["valueCoding"]!["code"]);
    }

    [Fact]
    public void TheResponseCarriesEveryAnswerAsAttestedByTheUserAtTheTimeTheyGaveIt()
    {
        var answers = Full();
        var view = NavigatorPathway.Evaluate(Sample("coapt-profile"), answers, Now);
        var qr = NavigatorOutputs.QuestionnaireResponse("coapt-profile", answers, view);
        Assert.Equal("Practitioner/dr-a", (string?)qr["author"]!["reference"]);
        Assert.Equal("https://ehr.example/fhir/Practitioner/dr-a", (string?)NavigatorOutputs.QuestionnaireResponse("coapt-profile", Full("https://ehr.example/fhir/Practitioner/dr-a"), view)["author"]!["reference"]);
        Assert.Equal("2026-11-21T12:00:00+00:00", (string?)qr["authored"]);
        Assert.Equal($"{NavigatorOutputs.QuestionnaireUrl}|{NavigatorOutputs.QuestionnaireVersion}", (string?)qr["questionnaire"]);
        var answered = qr["item"]!.AsArray().SelectMany(g => g!["item"]?.AsArray() ?? []).Select(i => (string)i!["linkId"]!).ToList();
        // The record gives this sample's mechanism, so the posted mechanism answer was not used and is not written back.
        Assert.Equal(NavigatorQuestions.All.Select(q => q.LinkId).Where(id => id != NavigatorQuestions.Mechanism), answered);
    }

    [Fact]
    public void TheDraftRequestIsAProposalForTheHeartValveTeamWithTheResultTheAttestationAndTheRecordItRestsOn()
    {
        var answers = Full();
        var view = NavigatorPathway.Evaluate(Sample("coapt-profile"), answers, Now);
        var sr = NavigatorOutputs.ServiceRequest("coapt-profile", answers, view, "urn:uuid:0b3e5a1c-0000-4000-8000-000000000001");
        Assert.Equal("draft", (string?)sr["status"]);
        Assert.Equal("proposal", (string?)sr["intent"]);
        Assert.Equal("Heart Valve Team evaluation", (string?)sr["code"]!["text"]);
        var note = (string)sr["note"]![0]!["text"]!;
        Assert.Contains("COAPT-like profile: refer to the Heart Valve Team", note, StringComparison.Ordinal);
        Assert.Contains("attested by Practitioner/dr-a on 2026-11-21", note, StringComparison.Ordinal);
        var supporting = sr["supportingInfo"]!.AsArray().Select(r => (string)r!["reference"]!).ToList();
        Assert.Equal("urn:uuid:0b3e5a1c-0000-4000-8000-000000000001", supporting[0]);
        Assert.Contains(supporting, s => s.StartsWith("Observation/", StringComparison.Ordinal));
    }

    [Fact]
    public void TheWriteBackTransactionIsValidAndLinksTheRequestToTheAnswers()
    {
        var answers = Full();
        var view = NavigatorPathway.Evaluate(Sample("coapt-profile"), answers, Now);
        var ids = new Queue<Guid>([Guid.Parse("00000000-0000-4000-8000-000000000001"), Guid.Parse("00000000-0000-4000-8000-000000000002")]);
        var bundle = NavigatorOutputs.WriteBackBundle("coapt-profile", answers, view, ids.Dequeue, proposeEvaluation: true);
        AssertValid("write-back transaction", bundle);
        Assert.Equal("urn:uuid:00000000-0000-4000-8000-000000000001", (string?)bundle["entry"]![1]!["resource"]!["supportingInfo"]![0]!["reference"]);
        // Without a proposal (decision 26), the answers alone: no ServiceRequest.
        var answersOnly = NavigatorOutputs.WriteBackBundle("coapt-profile", answers, view, Guid.NewGuid, proposeEvaluation: false);
        AssertValid("write-back of the answers alone", answersOnly);
        Assert.Equal(["QuestionnaireResponse"], answersOnly["entry"]!.AsArray().Select(e => (string)e!["resource"]!["resourceType"]!));
    }

    [Fact]
    public void AUserWhoIsNotAReferenceIsNamedNotReferencedAndHostileTextStaysData()
    {
        const string hostile = "<script>alert(1)</script> \"}, {\"x\": 1";
        var answers = Full(hostile);
        var view = NavigatorPathway.Evaluate(Sample("coapt-profile"), answers, Now);
        var qr = NavigatorOutputs.QuestionnaireResponse("coapt-profile", answers, view);
        Assert.Null(qr["author"]);
        var attestation = qr["item"]!.AsArray().Single(i => (string?)i!["linkId"] == NavigatorOutputs.AttestationLinkId)!;
        Assert.Equal($"Attested by {hostile} on 2026-11-21", (string?)attestation["answer"]![0]!["valueString"]);
        AssertValid("QuestionnaireResponse with a hostile user name", qr);
        AssertValid("ServiceRequest with a hostile user name", NavigatorOutputs.ServiceRequest("coapt-profile", answers, view));
        Assert.Throws<ArgumentException>(() => NavigatorOutputs.QuestionnaireResponse("../Patient/x", answers, view));
    }
}
