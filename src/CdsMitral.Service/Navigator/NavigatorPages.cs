using CdsMitral.Navigator;

namespace CdsMitral.Service.Navigator;

/// <summary>Where the Navigator's pages point. The defaults are the routes nav-launch maps; a host behind a path base
/// sets <see cref="Base"/>.</summary>
public sealed record NavigatorLinks(string Base = "")
{
    public string StepPrefix { get; init; } = "/navigator/step/";
    public string ResultPath { get; init; } = "/navigator/result";
    public string SummaryPath { get; init; } = "/navigator/summary";
    public string PatientPagePath { get; init; } = "/navigator/patient";
    public string WriteBackPath { get; init; } = "/navigator/write-back";

    public string Stylesheet => Base + NavigatorPages.StylesheetPath;
    public string Step(string stepId) => Base + StepPrefix + Uri.EscapeDataString(stepId);
    public string Result => Base + ResultPath;
    public string Summary => Base + SummaryPath;
    public string PatientPage => Base + PatientPagePath;
    public string WriteBack => Base + WriteBackPath;
    public string Content(string slug) => $"{Base}/content/{Uri.EscapeDataString(slug)}";
}

/// <summary>The Navigator's HTML pages: whole documents, HTML-encoded everywhere, no script and no inline style (the
/// stylesheet is served at <see cref="StylesheetPath"/>), forms that POST, a label on every input.</summary>
public static class NavigatorPages
{
    public const string StylesheetPath = "/navigator/navigator.css";

    public const string Stylesheet = "body{font-family:system-ui,sans-serif}";

    /// <summary>The hidden antiforgery input, encoded: pass its result as <c>antiforgeryField</c>.</summary>
    public static string AntiforgeryInput(string fieldName, string token) => "";

    /// <param name="antiforgeryField">Markup of the hidden antiforgery input, from <see cref="AntiforgeryInput"/>.</param>
    public static string Step(PathwayView view, string stepId, string formAction, string antiforgeryField, NavigatorLinks? links = null) => "";

    /// <param name="writeBackField">Antiforgery markup for the write-back form; null when the granted scopes do not allow write-back.</param>
    public static string Result(PathwayView view, NavigatorLinks? links = null, string? writeBackField = null) => "";

    public static string ReferralSummary(PathwayView view, NavigatorAnswers answers, string patientLabel, NavigatorLinks? links = null) => "";

    public static string PatientPage(NavigatorLinks? links = null) => "";

    public static string Problem(string title, string message, NavigatorLinks? links = null) => "";
}
