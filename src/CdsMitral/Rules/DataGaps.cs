using CdsMitral.Clinical;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>4. Data gaps: significant MR on record (not primary), but LVEF, LVESD or PASP is missing, stale, unusable,
/// conflicting or not judgeable (a comparator straddling the range), the MR grade is stale or conflicting, or the mechanism
/// is neither recorded nor presumable. On order-select, only for a selected mitral intervention.</summary>
internal sealed class DataGaps : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.DataGaps, "1.1.0", "Data gaps");

    public string Description => "Significant MR on record, not primary, but LVEF, LVESD or PASP missing, stale, unusable, conflicting or not judgeable, the MR grade stale or conflicting, or the mechanism neither recorded nor presumable. `info`; names each gap and since when.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMrOnRecord(s));
        criteria.Add(Rules.Criteria.NotPrimary(s));
        var gaps = Gaps(s);
        criteria.Add(gaps.Count > 0
            ? new("an input missing, out of date or not judgeable", Verdict.Met, string.Join("; ", gaps))
            : new("an input missing, out of date or not judgeable", Verdict.NotMet, "LVEF, LVESD, PASP, MR grade and mechanism are current and usable"));
        return criteria;
    }

    private static List<string> Gaps(ClinicalSnapshot s)
    {
        var gaps = new List<string>();
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
                gaps.Add(unusable.Count == 0 ? $"{name}: none on record" : $"{name}: none usable ({string.Join("; ", unusable.Select(f => $"{f.Source} {f.Problem}"))})");
            }
            else if (latest.IsStale)
            {
                gaps.Add($"{name}: latest is {latest.Display} from {latest.DateText}, older than {s.StaleAfterMonths} months");
            }
            else if (window.Verdict == Verdict.CannotJudge && Rules.Criteria.Outside(latest, out _) is null)
            {
                gaps.Add($"{name}: {window.Reason}");
            }
        }
        if (s.Mr is { IsConflicting: true } conflicting)
        {
            gaps.Add($"MR severity: assessments of {conflicting.DateText} give different grades ({string.Join(", ", [conflicting.Source, .. conflicting.ConflictsWith!])})");
        }
        else if (s.Mr is { IsStale: true } stale)
        {
            gaps.Add($"MR severity: latest assessment ({stale.Label}) is from {stale.DateText}, older than {s.StaleAfterMonths} months");
        }
        if (s.Mechanism.Kind is MechanismKind.Unknown or MechanismKind.Conflicting)
        {
            gaps.Add($"MR mechanism: {s.Mechanism.Basis}");
        }
        return gaps;
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.OnOrder ? c.MitralOrder : null;
        var gaps = Gaps(s);
        var names = gaps.Select(g => g[..g.IndexOf(':', StringComparison.Ordinal)]).ToList();
        var summary = order is null
            ? Fit($"{MrPhrase(s, withMechanism: false)} on record; {JoinAnd(names)} missing or out of date: intervention cannot be judged",
                $"{MrPhrase(s, withMechanism: false)} on record; {gaps.Count} input(s) missing or out of date")
            : Fit($"Ordering {ShortName(order)}: {JoinAnd(names)} missing or out of date in the record",
                $"Ordering {ShortName(order)}: {gaps.Count} input(s) missing or out of date");
        var detail = new Detail()
            .Para($"{MrPhrase(s, withMechanism: false)} ({s.Mr!.DateText}, {s.Mr.Source}) is on record, but what an intervention review needs is not complete:")
            .Bullets(gaps.Select(g => Cards.Markdown.Of($"{g}")))
            .Para($"A current transthoracic echo with LVEF, LVESD, PASP and the MR mechanism would allow the considerations to be judged.")
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["secondary-mr-causes-and-mechanisms", "coapt-and-mitra-fr"],
            ["need-more-info", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr.Source, s.Lvef?.Source, s.Lvesd?.Source, s.Pasp?.Source, s.Mechanism.Sources));
    }
}
