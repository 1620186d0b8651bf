namespace CdsMitral.Navigator;

/// <summary>The ids of the pathway's steps, in order.</summary>
public static class StepIds
{
    public const string Setting = "setting";
    public const string Mechanism = "mechanism";
    public const string Severity = "severity";
    public const string Gdmt = "gdmt";
    public const string Symptoms = "symptoms";
    public const string Window = "coapt-window";
    public const string BeyondRecord = "beyond-the-record";
    public const string Context = "context";

    public static IReadOnlyList<string> All { get; } = [Setting, Mechanism, Severity, Gdmt, Symptoms, Window, BeyondRecord, Context];
}
