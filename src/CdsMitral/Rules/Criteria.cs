using CdsMitral.Clinical;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>The criteria several rules share, each judged once from the snapshot with its reason.</summary>
internal static class Criteria
{
    /// <summary>Moderate-severe or severe MR, graded consistently; with <paramref name="current"/>, not stale either.</summary>
    public static Criterion SignificantMr(ClinicalSnapshot s, bool current)
    {
        const string name = "significant MR (moderate-severe or severe)";
        return s.Mr switch
        {
            // Decision 27: a missing value cannot be judged; it is not "not met".
            null => new(name, Verdict.CannotJudge, "no MR severity assessment found in the EHR's answer"),
            { IsConflicting: true } mr => new(name, Verdict.CannotJudge, $"MR assessments of {mr.DateText} give different grades"),
            { IsSignificant: false } mr => new(name, Verdict.NotMet, $"MR is {mr.Label} ({mr.DateText})"),
            var mr when PredatesRepair(s) is { } repair => new(name, Verdict.CannotJudge, $"the MR assessment of {mr.DateText} predates {repair}"),
            { IsStale: true } mr when current => new(name, Verdict.CannotJudge, $"MR assessment of {mr.DateText} is older than {s.StaleAfterMonths} months"),
            var mr => new(name, Verdict.Met, $"{mr.Label} MR on {mr.DateText} ({mr.Source})"),
        };
    }

    /// <summary>"the TEER of 2026-10-20" when the MR assessment was made before the latest TEER or mitral repair: it describes
    /// the valve before the procedure, not now. An assessment of the procedure's day counts as after it.</summary>
    public static string? PredatesRepair(ClinicalSnapshot s) =>
        s.Mr is { } mr && s.PriorTeerOrRepair is { Date: { } done } p && DateOnly.FromDateTime(mr.Date.DateTime) < DateOnly.FromDateTime(done.DateTime)
            ? $"the {Wording.ProcedureWord(p)} of {p.DateText}"
            : null;

    /// <summary>Significant MR on record at all (stale or conflicting counts): the ground for naming data gaps.</summary>
    public static Criterion SignificantMrOnRecord(ClinicalSnapshot s) =>
        s.Mr is { IsSignificant: true } mr
            ? new("significant MR on record", Verdict.Met, $"{mr.Label} MR on {mr.DateText} ({mr.Source})")
            : new("significant MR on record", Verdict.NotMet, s.Mr is { } m ? $"MR is {m.Label} ({m.DateText})" : "no MR severity assessment on record");

    public static Criterion SecondaryMechanism(ClinicalSnapshot s) => s.Mechanism.Kind switch
    {
        MechanismKind.Secondary => new("secondary mechanism", Verdict.Met, s.Mechanism.Presumed ? s.Mechanism.Basis : $"secondary, {s.Mechanism.Basis}"),
        MechanismKind.Primary => new("secondary mechanism", Verdict.NotMet, $"MR is primary, {s.Mechanism.Basis}"),
        _ => new("secondary mechanism", Verdict.CannotJudge, s.Mechanism.Basis),
    };

    public static Criterion NotPrimary(ClinicalSnapshot s) =>
        s.Mechanism.Kind == MechanismKind.Primary
            ? new("MR not primary", Verdict.NotMet, $"MR is primary, {s.Mechanism.Basis}")
            : new("MR not primary", Verdict.Met, s.Mechanism.Label);

    /// <summary>A current value judged against a region of the COAPT-like window (decision 5: a value with a comparator
    /// is met or not met only when its whole interval is).</summary>
    public static Criterion Within(string name, Measurement? current, Interval region, string regionText) =>
        current is null
            ? new(name, Verdict.CannotJudge, $"no current {name.Split(' ')[0]}")
            : Interval.Judge(current, region) switch
            {
                Verdict.Met => new(name, Verdict.Met, $"{current.Name} {current.Display} ({current.DateText})"),
                Verdict.NotMet => new(name, Verdict.NotMet, $"{current.Name} {current.Display} is not {regionText}"),
                _ => new(name, Verdict.CannotJudge, $"{current.Name} recorded as {current.Display} cannot be judged {regionText}"),
            };

    public static Criterion LvefInWindow(ClinicalSnapshot s) =>
        Within($"LVEF {Thresholds.LvefWindowText}", s.CurrentLvef, Interval.Between(Thresholds.LvefLow, Thresholds.LvefHigh), $"within {Thresholds.LvefWindowText}");

    public static Criterion LvesdInWindow(ClinicalSnapshot s) =>
        Within($"LVESD {Thresholds.LvesdWindowText}", s.CurrentLvesd, Interval.AtMost(Thresholds.LvesdMax), $"at most {Thresholds.LvesdMax.Text("mm")}");

    public static Criterion PaspInWindow(ClinicalSnapshot s) =>
        Within($"PASP {Thresholds.PaspWindowText}", s.CurrentPasp, Interval.AtMost(Thresholds.PaspMax), $"at most {Thresholds.PaspMax.Text("mmHg")}");

    /// <summary>A current LVEF below 50 % (Thresholds.ReducedEfBelow).</summary>
    public static Criterion ReducedEf(ClinicalSnapshot s) =>
        Within($"LVEF below {Thresholds.ReducedEfBelow.Text("%")}", s.CurrentLvef, Interval.Below(Thresholds.ReducedEfBelow), $"below {Thresholds.ReducedEfBelow.Text("%")}");

    /// <summary>On order-select: a mitral intervention is among the selected orders.</summary>
    public static Criterion MitralOrderSelected(RuleContext c) =>
        c.MitralOrder is { } order
            ? new("mitral intervention selected", Verdict.Met, $"{order.Name} ({order.Key}){Orders.IgnoredNote(c.Orders)}")
            : new("mitral intervention selected", Verdict.NotMet, $"no mitral intervention among the selected orders{Orders.IgnoredNote(c.Orders)}");

    /// <summary>The edges of the COAPT-like window, per measure: a value wholly beyond one is outside the range.</summary>
    private static readonly (string Measure, Edge Edge, Interval Beyond, string Words)[] WindowEdges =
    [
        ("LVEF", Edge.LvefLow, Interval.Below(Thresholds.LvefLow), $"below {Thresholds.LvefLow.Text("%")}"),
        ("LVEF", Edge.LvefHigh, Interval.Above(Thresholds.LvefHigh), $"above {Thresholds.LvefHigh.Text("%")}"),
        ("LVESD", Edge.Lvesd, Interval.Above(Thresholds.LvesdMax), $"above {Thresholds.LvesdMax.Text("mm")}"),
        ("PASP", Edge.Pasp, Interval.Above(Thresholds.PaspMax), $"above {Thresholds.PaspMax.Text("mmHg")}"),
    ];

    /// <summary>Which edge of the window a value lies beyond: each has its own clinical meaning (decision 23).</summary>
    public enum Edge { LvefLow, LvefHigh, Lvesd, Pasp }

    /// <summary>A current value wholly beyond an edge of the window, with the words a card uses ("LVESD 74 mm is above 70 mm").</summary>
    public sealed record OutsideValue(Measurement Value, Edge Edge, string Words, string DatedWords);

    /// <summary>How one value lies against the window's edges: beyond one, or null; <paramref name="undecided"/> when it
    /// straddles one (a comparator or a range).</summary>
    public static OutsideValue? Outside(Measurement m, out bool undecided)
    {
        undecided = false;
        foreach (var (measure, edge, beyond, words) in WindowEdges)
        {
            if (measure != m.Name)
            {
                continue;
            }
            switch (Interval.Judge(m, beyond))
            {
                case Verdict.Met:
                    return new OutsideValue(m, edge, $"{m.Name} {m.Display} is {words}", $"{m.Name} {m.Display} ({m.DateText}) is {words}");
                case Verdict.CannotJudge:
                    undecided = true;
                    break;
            }
        }
        return null;
    }

    /// <summary>The current values of the COAPT-like window that are wholly outside it.</summary>
    public static List<OutsideValue> OutsideWindow(ClinicalSnapshot s, out bool undecided)
    {
        var outside = new List<OutsideValue>();
        undecided = false;
        foreach (var m in new[] { s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp })
        {
            if (m is null)
            {
                continue;
            }
            if (Outside(m, out var straddles) is { } value)
            {
                outside.Add(value);
            }
            undecided |= straddles;
        }
        return outside;
    }
}
