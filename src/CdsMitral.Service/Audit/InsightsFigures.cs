namespace CdsMitral.Service.Audit;

// The insights' figures: a row per rule version and week, and what it is gathered from (events, day tallies, cards shown, answers).

/// <summary>One rule version in one ISO week: what the committee that owns the rules looks at.</summary>
/// <param name="Judged">answered hook calls that judged the rule live (on a hook that shows it)</param>
/// <param name="Fired">hook calls in which the rule fired live</param>
/// <param name="FireRate">fired ÷ judged live; null when it was not judged live</param>
/// <param name="JudgedSilently">answered hook calls that judged the rule in silent mode</param>
/// <param name="FiredSilently">hook calls in which the rule would have fired, in silent mode (never shown)</param>
/// <param name="SilentFireRate">fired silently ÷ judged silently; null when it was not judged silently</param>
/// <param name="Shown">cards of the rule that were shown</param>
/// <param name="Suppressed">fired, but stood back after earlier feedback</param>
/// <param name="LeftOut">fired, but left out by the limit of cards per answer</param>
/// <param name="Accepted">shown cards answered "accepted"</param>
/// <param name="Overridden">shown cards answered "overridden"</param>
/// <param name="OverriddenBy">overridden, by reason code ("(none)" without one)</param>
/// <param name="OverrideRate">overridden ÷ shown; null with nothing shown</param>
/// <param name="AnswerP50Seconds">time from the card shown to its feedback received, median (nearest rank)</param>
/// <param name="AnswerP95Seconds">the same, 95th percentile (nearest rank)</param>
/// <param name="TopFindings">the data-quality findings most often in the snapshots the rule fired on, with counts</param>
public sealed record InsightsRow(
    string RuleId,
    string Version,
    string Week,
    int Judged,
    int Fired,
    double? FireRate,
    int JudgedSilently,
    int FiredSilently,
    double? SilentFireRate,
    int Shown,
    int Suppressed,
    int LeftOut,
    int Accepted,
    int Overridden,
    IReadOnlyList<KeyValuePair<string, int>> OverriddenBy,
    double? OverrideRate,
    double? AnswerP50Seconds,
    double? AnswerP95Seconds,
    IReadOnlyList<KeyValuePair<string, int>> TopFindings);

/// <summary>An audit event as the insights read it: its id, kind, time as stored, and the parts of its chained document
/// they count (a hook call's or a feedback item's; neither when the document is not one).</summary>
public sealed record InsightsEvent(string Id, string Kind, DateTimeOffset At, InsightsHookView? Hook = null, InsightsFeedbackView? Feedback = null);

/// <summary>A rule version's counts on one UTC day of hook calls (see InsightsRow for each figure).</summary>
public sealed class DayTally
{
    public int Judged { get; set; }
    public int Fired { get; set; }
    public int JudgedSilently { get; set; }
    public int FiredSilently { get; set; }
    public int Shown { get; set; }
    public int Suppressed { get; set; }
    public int LeftOut { get; set; }

    public void Add(DayTally o) => (Judged, Fired, JudgedSilently, FiredSilently, Shown, Suppressed, LeftOut) =
        (Judged + o.Judged, Fired + o.Fired, JudgedSilently + o.JudgedSilently, FiredSilently + o.FiredSilently, Shown + o.Shown, Suppressed + o.Suppressed, LeftOut + o.LeftOut);
}

/// <summary>A rule version on a day: the key of the folded figures.</summary>
public readonly record struct RuleDay(string Rule, string Version, string Day);

/// <summary>A card shown: the rule version and day its feedback counts in.</summary>
public sealed record CardShown(string Uuid, RuleDay Key, DateTimeOffset At);

/// <summary>An answer to a card shown, counted in the day the card was shown.</summary>
public sealed record CardAnswer(string FeedbackEventId, RuleDay Key, string Outcome, string? Reason, double Seconds);
