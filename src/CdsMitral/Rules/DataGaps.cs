using CdsMitral.Clinical;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>4. Data gaps: significant MR on record (not primary), but LVEF, LVESD or PASP is missing, stale, unusable,
/// conflicting or not judgeable (an interval straddling the range), the MR grade is stale or conflicting, or the mechanism
/// is neither recorded nor presumable, or recorded inconsistently. The summary names each gap's reason (decision 23). On
/// order-select, only for a selected mitral intervention.</summary>
internal sealed class DataGaps : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.DataGaps, "2.0.0", "Data gaps");

    public string Description => "Significant MR on record, not primary, but LVEF, LVESD or PASP missing, stale, implausible, conflicting, " +
        "unusable or not judgeable, the MR grade stale or conflicting, or the mechanism not recorded (and not presumable) or recorded " +
        "inconsistently. `info`; the summary names each gap with its reason and date (\"LVEF stale since 2025-06-01, PASP missing\").";

    /// <summary>One gap: the measure, the reason in a few words for the summary ("missing", "stale since 2025-06-01"), and
    /// in full for the detail.</summary>
    private sealed record Gap(string Name, string Reason, string Full)
    {
        public string Brief => $"{Name} {Reason}";
    }

    /// <summary>The summary's reasons, measures that share one named together: "LVEF stale since 2025-06-01, LVESD and PASP missing".</summary>
    private static string Reasons(List<Gap> gaps) =>
        JoinAnd(gaps.GroupBy(g => g.Reason).Select(g => $"{JoinAnd(g.Select(x => x.Name).ToList())} {g.Key}").ToList());

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMrOnRecord(s));
        criteria.Add(Rules.Criteria.NotPrimary(s));
        var gaps = Gaps(s);
        criteria.Add(gaps.Count > 0
            ? new("an input missing, out of date or not judgeable", Verdict.Met, string.Join("; ", gaps.Select(g => g.Full)))
            : new("an input missing, out of date or not judgeable", Verdict.NotMet, "LVEF, LVESD, PASP, MR grade and mechanism are current and usable"));
        return criteria;
    }

    private static List<Gap> Gaps(ClinicalSnapshot s)
    {
        var gaps = new List<Gap>();
        foreach (var (name, latest, window) in new[]
                 {
                     ("LVEF", s.Lvef, Rules.Criteria.LvefInWindow(s)),
                     ("LVESD", s.Lvesd, Rules.Criteria.LvesdInWindow(s)),
                     ("PASP", s.Pasp, Rules.Criteria.PaspInWindow(s)),
                 })
        {
            if (latest is null)
            {
                var unusable = s.Findings.Where(f => f.Measure == name).ToList();
                // One reason for the summary when the unusable values share it; the detail names each.
                var briefs = unusable.Select(f => f.Brief).Distinct().ToList();
                var brief = briefs is [{ } only] ? only : null;
                gaps.Add(unusable.Count == 0
                    ? new(name, "not found", $"{name}: none found in the EHR's answer")
                    : new(name, brief ?? "unusable",
                        $"{name}: none usable ({string.Join("; ", unusable.Select(f => $"{f.Source} {f.Problem}"))})"));
            }
            else if (latest.IsStale)
            {
                gaps.Add(new(name, $"stale since {latest.DateText}",
                    $"{name}: latest is {latest.Display} from {latest.DateText}, older than {s.StaleAfterMonths} months"));
            }
            else if (window.Verdict == Verdict.CannotJudge && Rules.Criteria.Outside(latest, out _) is null)
            {
                gaps.Add(new(name, $"cannot be judged ({latest.Display})", $"{name}: {window.Reason}"));
            }
        }
        if (s.Mr is { IsConflicting: true } conflicting)
        {
            gaps.Add(new("MR grade", $"conflicting on {conflicting.DateText}",
                $"MR severity: assessments of {conflicting.DateText} give different grades ({string.Join(", ", [conflicting.Source, .. conflicting.ConflictsWith!])})"));
        }
        else if (Rules.Criteria.PredatesRepair(s) is { } repair)
        {
            gaps.Add(new("MR grade", $"predates {repair}",
                $"MR severity: the latest assessment ({s.Mr!.Label}, {s.Mr.DateText}) predates {repair}; it does not show the valve now"));
        }
        else if (s.Mr is { IsStale: true } stale)
        {
            gaps.Add(new("MR grade", $"stale since {stale.DateText}",
                $"MR severity: latest assessment ({stale.Label}) is from {stale.DateText}, older than {s.StaleAfterMonths} months"));
        }
        if (s.Mechanism.Kind == MechanismKind.Unknown)
        {
            gaps.Add(new("mechanism", "not recorded", $"MR mechanism: {s.Mechanism.Basis}"));
        }
        else if (s.Mechanism.Kind == MechanismKind.Conflicting)
        {
            gaps.Add(new("mechanism", "recorded inconsistently", $"MR mechanism: {s.Mechanism.Basis}"));
        }
        return gaps;
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.OnOrder ? c.MitralOrder : null;
        var gaps = Gaps(s);
        var reasons = Reasons(gaps);
        var names = JoinAnd(gaps.Select(g => g.Name).ToList());
        var mr = $"{MrPhrase(s)} on record ({s.Mr!.DateText})";
        var repair = s.PriorTeerOrRepair;
        var summary = (order, gaps) switch
        {
            // The clinical review: after a procedure the question is the valve now, not the COAPT-like profile.
            (null, [{ Name: "MR grade" }]) when Rules.Criteria.PredatesRepair(s) is not null =>
                Fit($"{Capitalise(ProcedureWord(repair!))} on {repair!.DateText}; the last MR grade ({s.Mr.Label}, {s.Mr.DateText}) predates it: no later echo on record"),
            // With a preserved LVEF the mechanism, primary or atrial, decides the pathway, not the trial window.
            (null, [{ Name: "mechanism" }]) when s.CurrentLvef is { } ef && Interval.Judge(ef, Interval.Above(Thresholds.LvefHigh)) == Verdict.Met =>
                Fit($"{MrPhrase(s)} ({s.Mr.DateText}), LVEF {ef.Display}: mechanism not recorded; primary or atrial MR decides the pathway"),
            (null, _) => Fit($"{mr}; {reasons}: the COAPT-like profile cannot be judged",
                $"{MrPhrase(s)} on record; {reasons}: the COAPT-like profile cannot be judged",
                $"{MrPhrase(s)} on record; {reasons}",
                $"{mr}; {names} not usable: the COAPT-like profile cannot be judged"),
            _ => Fit($"{OrderLead(c, order!)}: {reasons}; the COAPT-like profile cannot be judged", $"{OrderLead(c, order!)}: {reasons}",
                $"{OrderLead(c, order!)}: {names} not usable in the record"),
        };
        var detail = new Detail()
            .ParaIf(order is not null, $"{OrderHeading(c, 1)}: {order?.Name} ({order?.Key}).")
            .Para($"{MrPhrase(s)} ({s.Mr.DateText}, {s.Mr.Source}) is on record, but what an intervention review needs is not complete:")
            .Bullets(gaps.Select(g => Cards.Markdown.Of($"{g.Full}")))
            .Bullets(Advice(gaps).Select(a => Cards.Markdown.Of($"{a}")))
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["secondary-mr-causes-and-mechanisms", "coapt-and-mitra-fr"],
            ["need-more-info", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr.Source, s.Lvef?.Source, s.Lvesd?.Source, s.Pasp?.Source, s.Mechanism.Sources, order?.Key));
    }

    /// <summary>What would close each kind of gap (the clinical review: "a current echo" is not the answer to a conflict or an
    /// unstated mechanism in a recent report).</summary>
    private static IEnumerable<string> Advice(List<Gap> gaps)
    {
        if (gaps.Any(g => g.Reason == "not found" || g.Reason.StartsWith("stale", StringComparison.Ordinal) || g.Reason.StartsWith("predates", StringComparison.Ordinal)))
        {
            yield return "Needed: a current transthoracic echo with LVEF, LVESD, PASP, the MR grade and its mechanism";
        }
        if (gaps.Any(g => g.Reason.StartsWith("conflicting", StringComparison.Ordinal) || g.Reason.StartsWith("recorded inconsistently", StringComparison.Ordinal)))
        {
            yield return "Needed: the conflicting entries reconciled in the echo report";
        }
        if (gaps.Any(g => g.Reason.StartsWith("implausible", StringComparison.Ordinal) || g.Reason.StartsWith("recorded as text", StringComparison.Ordinal)
            || g.Reason.StartsWith("in an unreadable unit", StringComparison.Ordinal) || g.Reason == "unusable" || g.Reason == "no numeric value"))
        {
            yield return "Needed: the value checked and recorded as a number with its unit";
        }
        if (gaps.Any(g => g.Reason.StartsWith("cannot be judged", StringComparison.Ordinal)))
        {
            yield return "Needed: a measured value rather than a bound or a range that straddles the trial window";
        }
        if (gaps.Any(g => g.Name == "mechanism" && g.Reason == "not recorded"))
        {
            yield return "Needed: the mechanism (primary, secondary ventricular or atrial) stated in the echo report";
        }
    }
}
