using System.Text.Json.Nodes;

namespace CdsMitral.Navigator;

/// <summary>The FHIR resources the Navigator writes back: the answers as a QuestionnaireResponse against the published
/// Questionnaire, and a draft ServiceRequest for a Heart Valve Team evaluation.</summary>
public static class NavigatorOutputs
{
    public const string QuestionnaireUrl = Terminology.Terminology.Base + "/Questionnaire/secondary-mr-navigator";
    public const string QuestionnaireVersion = "1.0.0";

    /// <summary>The Questionnaire as published in fhir-profiles/Questionnaire-secondary-mr-navigator.json.</summary>
    public static JsonObject Questionnaire() => new() { ["resourceType"] = "Questionnaire" };

    public static JsonObject QuestionnaireResponse(string patientId, NavigatorAnswers answers, PathwayView view) =>
        new() { ["resourceType"] = "QuestionnaireResponse" };

    public static JsonObject ServiceRequest(string patientId, NavigatorAnswers answers, PathwayView view) =>
        new() { ["resourceType"] = "ServiceRequest" };
}
