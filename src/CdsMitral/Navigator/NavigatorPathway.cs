using CdsMitral.Snapshot;

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

/// <summary>
/// The Secondary MR Intervention Navigator's pathway: the snapshot the cards read, judged by the same criteria and
/// thresholds, with the clinician's attested answers as further inputs. Pure: no HTTP, no clock.
/// </summary>
public static class NavigatorPathway
{
    public static PathwayView Evaluate(ClinicalSnapshot snapshot, NavigatorAnswers answers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(answers);
        // Skeleton: the steps and the result are filled in by the next commits.
        return new PathwayView(now, answers, [], [],
            new PathwayOutcome(PathwayResult.NotEnoughInformation, "Not enough information", "", [], [], [], ""), []);
    }
}
