using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CdsMitral.Navigator;

/// <summary>
/// The FHIR R4 resources the Navigator writes back: the answers as a QuestionnaireResponse against the published
/// Questionnaire (built here from the same question table as the pages, and kept in fhir-profiles/), and a draft
/// ServiceRequest for a Heart Valve Team evaluation, as the COAPT-like card suggests it (status draft, intent proposal).
/// </summary>
public static partial class NavigatorOutputs
{
    public const string QuestionnaireUrl = Terminology.Terminology.Base + "/Questionnaire/secondary-mr-navigator";
    public const string QuestionnaireVersion = "1.0.0";

    /// <summary>The code system of the answer options' codes (the form values) and of the result codes.</summary>
    public const string AnswerSystem = Terminology.Terminology.Base + "/CodeSystem/navigator-answer";
    public const string ResultSystem = Terminology.Terminology.Base + "/CodeSystem/navigator-result";

    public const string ResultLinkId = "result";
    public const string AttestationLinkId = "attestation";

    private const string AttestationText = "Who gave these answers, and when (set by the Navigator from the launch, not asked)";

    /// <summary>The questions grouped by the step that asks them, in the pathway's order.</summary>
    private static readonly (string StepId, string Title, string[] LinkIds)[] Groups =
    [
        (StepIds.Setting, "Setting: chronic or acute", [NavigatorQuestions.Acute]),
        (StepIds.Mechanism, "MR mechanism (asked where the record is missing, presumed or inconsistent)", [NavigatorQuestions.Mechanism]),
        (StepIds.Gdmt, "GDMT by pillar, and CRT",
            [NavigatorQuestions.BetaBlocker, NavigatorQuestions.RaasInhibitor, NavigatorQuestions.Mra, NavigatorQuestions.Sglt2Inhibitor, NavigatorQuestions.Crt]),
        (StepIds.Symptoms, "Symptoms despite GDMT", [NavigatorQuestions.Nyha, NavigatorQuestions.SymptomsPersist]),
        (StepIds.BeyondRecord, "What the record cannot show",
            [NavigatorQuestions.HfEvent, NavigatorQuestions.TeeAnatomy, NavigatorQuestions.SurgicalRisk, NavigatorQuestions.RvFunction]),
    ];

    private static JsonObject Coding(string system, string code, string display) =>
        new() { ["system"] = system, ["code"] = code, ["display"] = display };

    /// <summary>The Questionnaire as published in fhir-profiles/Questionnaire-secondary-mr-navigator.json (a test keeps
    /// the file equal to this).</summary>
    public static JsonObject Questionnaire()
    {
        var items = new JsonArray();
        foreach (var (stepId, title, linkIds) in Groups)
        {
            items.Add(new JsonObject
            {
                ["linkId"] = GroupLinkId(stepId),
                ["text"] = title,
                ["type"] = "group",
                ["item"] = new JsonArray([.. linkIds.Select(id => NavigatorQuestions.Get(id)).Select(q => (JsonNode)new JsonObject
                {
                    ["linkId"] = q.LinkId,
                    ["text"] = q.Text,
                    ["type"] = "choice",
                    ["answerOption"] = new JsonArray([.. q.Options.Select(o => (JsonNode)new JsonObject { ["valueCoding"] = Coding(AnswerSystem, o.Code, o.Display) })]),
                })]),
            });
        }
        items.Add(new JsonObject
        {
            ["linkId"] = ResultLinkId,
            ["text"] = "Where the patient stands on the secondary-MR pathway (set by the Navigator, not asked)",
            ["type"] = "choice",
            ["readOnly"] = true,
            ["answerOption"] = new JsonArray([.. Enum.GetValues<PathwayResult>().Select(r => (JsonNode)new JsonObject
            {
                ["valueCoding"] = Coding(ResultSystem, NavigatorPathway.CodeOf(r), NavigatorPathway.TitleOf(r)),
            })]),
        });
        items.Add(new JsonObject
        {
            ["linkId"] = AttestationLinkId,
            ["text"] = AttestationText,
            ["type"] = "string",
            ["readOnly"] = true,
        });
        return new JsonObject
        {
            ["resourceType"] = "Questionnaire",
            ["id"] = "secondary-mr-navigator",
            ["url"] = QuestionnaireUrl,
            ["version"] = QuestionnaireVersion,
            ["name"] = "SecondaryMrNavigator",
            ["title"] = "Secondary MR Intervention Navigator: what the clinician attests",
            ["status"] = "active",
            ["experimental"] = false,
            ["subjectType"] = new JsonArray("Patient"),
            ["date"] = "2026-11-28",
            ["publisher"] = "CdsMitral",
            ["description"] = "What the record cannot show about a patient with secondary mitral regurgitation, as the clinician attests it in the " +
                "Secondary MR Intervention Navigator, and the pathway result. Decision support: the result frames a consideration for the clinician " +
                "and the Heart Valve Team.",
            ["item"] = items,
        };
    }

    /// <summary>The clinician's answers that the pathway used (<see cref="PathwayView.Attested"/>) and the result, authored by
    /// the attesting user at the attestation time.</summary>
    public static JsonObject QuestionnaireResponse(string patientId, NavigatorAnswers answers, PathwayView view)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(view);
        var items = new JsonArray();
        foreach (var (stepId, title, linkIds) in Groups)
        {
            var answered = linkIds.Select(NavigatorQuestions.Get).Where(q => view.Attested.Any(a => a.LinkId == q.LinkId)).ToList();
            if (answered.Count == 0)
            {
                continue; // an empty group is not valid in a response
            }
            items.Add(new JsonObject
            {
                ["linkId"] = GroupLinkId(stepId),
                ["text"] = title,
                ["item"] = new JsonArray([.. answered.Select(q => (JsonNode)new JsonObject
                {
                    ["linkId"] = q.LinkId,
                    ["text"] = q.Text,
                    ["answer"] = new JsonArray(new JsonObject { ["valueCoding"] = Coding(AnswerSystem, q.AnswerCode(answers)!, q.AnswerDisplay(answers)!) }),
                })]),
            });
        }
        items.Add(new JsonObject
        {
            ["linkId"] = ResultLinkId,
            ["text"] = "Where the patient stands on the secondary-MR pathway (set by the Navigator, not asked)",
            ["answer"] = new JsonArray(new JsonObject { ["valueCoding"] = Coding(ResultSystem, NavigatorPathway.CodeOf(view.Result), view.Outcome.Title) }),
        });
        items.Add(new JsonObject
        {
            ["linkId"] = AttestationLinkId,
            ["text"] = AttestationText,
            ["answer"] = new JsonArray(new JsonObject { ["valueString"] = Capitalise(answers.Provenance) }),
        });
        var response = new JsonObject
        {
            ["resourceType"] = "QuestionnaireResponse",
            ["questionnaire"] = $"{QuestionnaireUrl}|{QuestionnaireVersion}",
            ["status"] = "completed",
            ["subject"] = PatientReference(patientId),
            ["authored"] = Instant(answers.AttestedAt),
        };
        if (UserReference(answers.AttestedBy) is { } author)
        {
            response["author"] = author;
        }
        response["item"] = items;
        return response;
    }

    /// <summary>A draft request for a Heart Valve Team evaluation, carrying the result, its reasons, what the team must
    /// still confirm and the attestation in its note; the record values it rests on as supportingInfo.</summary>
    /// <param name="questionnaireResponseReference">The answers' reference once known (e.g. a transaction's urn:uuid).</param>
    public static JsonObject ServiceRequest(string patientId, NavigatorAnswers answers, PathwayView view, string? questionnaireResponseReference = null)
    {
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(view);
        var o = view.Outcome;
        var note = $"Secondary MR Intervention Navigator: {o.Title}. {o.Wording}"
            + (o.Because.Count > 0 ? $" Because: {string.Join("; ", o.Because)}." : "")
            + (o.Notes.Count > 0 ? $" Notes: {string.Join(" ", o.Notes)}" : "")
            + (o.StillToConfirm.Count > 0 ? $" Still to confirm by the Heart Valve Team: {string.Join("; ", o.StillToConfirm)}." : "")
            + $" Clinician's answers {answers.Provenance}.";
        var supporting = view.Steps.SelectMany(s => s.Values).Select(v => v.Source)
            .SelectMany(s => s.Split(", "))
            .Where(s => LiteralReference().IsMatch(s))
            .Distinct(StringComparer.Ordinal)
            .Select(s => (JsonNode)new JsonObject { ["reference"] = s })
            .ToList();
        if (questionnaireResponseReference is not null)
        {
            supporting.Insert(0, new JsonObject { ["reference"] = questionnaireResponseReference });
        }
        var request = new JsonObject
        {
            ["resourceType"] = "ServiceRequest",
            ["status"] = "draft",
            ["intent"] = "proposal",
            ["code"] = new JsonObject { ["text"] = "Heart Valve Team evaluation" },
            ["subject"] = PatientReference(patientId),
            ["authoredOn"] = Instant(answers.AttestedAt),
            ["reasonCode"] = new JsonArray(new JsonObject { ["text"] = $"Secondary mitral regurgitation: {o.Title}" }),
            ["note"] = new JsonArray(new JsonObject { ["text"] = note }),
        };
        if (UserReference(answers.AttestedBy) is { } requester)
        {
            request["requester"] = requester;
        }
        if (supporting.Count > 0)
        {
            request["supportingInfo"] = new JsonArray([.. supporting]);
        }
        return request;
    }

    /// <summary>What a write-back saves (decision 26 of 2026-12-07): always the answers, and a draft request for a Heart Valve
    /// Team evaluation only when the clinician chose to propose one. Both in one transaction, the request pointing at the
    /// answers through a urn:uuid, so that an EHR stores what was chosen or nothing.</summary>
    public static JsonObject WriteBackBundle(string patientId, NavigatorAnswers answers, PathwayView view, Func<Guid> newId, bool proposeEvaluation)
    {
        ArgumentNullException.ThrowIfNull(newId);
        var qrUrl = $"urn:uuid:{newId()}";
        JsonObject Entry(string fullUrl, JsonObject resource) => new()
        {
            ["fullUrl"] = fullUrl,
            ["resource"] = resource,
            ["request"] = new JsonObject { ["method"] = "POST", ["url"] = (string)resource["resourceType"]! },
        };
        var entries = new JsonArray(Entry(qrUrl, QuestionnaireResponse(patientId, answers, view)));
        if (proposeEvaluation)
        {
            entries.Add(Entry($"urn:uuid:{newId()}", ServiceRequest(patientId, answers, view, qrUrl)));
        }
        return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = entries };
    }

    /// <summary>The results for which proposing a Heart Valve Team evaluation is the Navigator's own advice (decision 26):
    /// the COAPT-like profile, and values outside the range, where the team may still consider intervention. For every
    /// other result a proposal is only ever the clinician's explicit choice.</summary>
    public static bool ProposesEvaluation(PathwayResult result) =>
        result is PathwayResult.CoaptLikeReferToHeartValveTeam or PathwayResult.OutsideCoaptLikeRange;

    /// <summary>What each write-back button says, word for word what it writes.</summary>
    public const string SaveAnswersLabel = "Save the answers to the EHR (a completed QuestionnaireResponse)";

    public const string SaveAndProposeLabel =
        "Save the answers and propose a Heart Valve Team evaluation (a QuestionnaireResponse and a draft ServiceRequest)";

    private static JsonObject PatientReference(string patientId) =>
        Hooks.HookValidation.IsFhirId(patientId)
            ? new JsonObject { ["reference"] = $"Patient/{patientId}" }
            : throw new ArgumentException("Not a FHIR resource id.", nameof(patientId));

    /// <summary>The attesting user as a reference when the launch gave one ("Practitioner/123", or a fhirUser URL); else
    /// none, and the attestation item (and the request's note) name the user: never a reference the EHR cannot resolve.</summary>
    private static JsonObject? UserReference(string user) =>
        UserLiteral().IsMatch(user) ? new JsonObject { ["reference"] = user } : null;

    private static string GroupLinkId(string stepId) => $"step-{stepId}";

    private static string Capitalise(string text) => Rules.Wording.Capitalise(text);

    private static string Instant(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(https://[A-Za-z0-9\-\.:]+(/[A-Za-z0-9\-\._~]+)*/)?(Practitioner|PractitionerRole|Patient|RelatedPerson)/[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex UserLiteral();

    [GeneratedRegex(@"^(Observation|Condition|MedicationStatement|MedicationRequest|Procedure)/[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex LiteralReference();
}
