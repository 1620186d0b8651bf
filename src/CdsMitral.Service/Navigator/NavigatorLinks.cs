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
