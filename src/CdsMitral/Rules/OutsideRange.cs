using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>3. Outside the COAPT-like range: significant secondary MR with a current LVEF below 20 % or above 50 %
/// (decision 11), LVESD above 70 mm or PASP above 70 mmHg. On order-select, only for a selected mitral intervention.</summary>
internal sealed class OutsideRange : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.OutsideRange, "1.1.0", "Outside the COAPT-like range");

    public string Description => "Significant secondary MR with a current value wholly outside the COAPT-like window: LVEF below 20 % or above 50 %, LVESD above 70 mm, PASP above 70 mmHg. `info`: TEER's benefit is less established there (the MITRA-FR contrast); with LVEF above 50 %, rhythm and heart-failure treatment come first.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMr(s, current: false));
        criteria.Add(Rules.Criteria.SecondaryMechanism(s));
        var outside = Rules.Criteria.OutsideWindow(s, out var undecided);
        const string name = "a current value outside the COAPT-like range";
        criteria.Add(outside.Count > 0 ? new(name, Verdict.Met, JoinAnd(outside))
            : undecided ? new(name, Verdict.CannotJudge, "a value recorded with a comparator cannot be placed inside or outside the range")
            : new(name, Verdict.NotMet, $"no current LVEF outside {Thresholds.LvefWindowText}, LVESD above {Thresholds.LvesdMax.Text("mm")} or PASP above {Thresholds.PaspMax.Text("mmHg")}"));
        return criteria;
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.OnOrder ? c.MitralOrder : null;
        var values = Rules.Criteria.OutsideWindow(s, out _);
        var preservedEf = s.CurrentLvef is { } lvef && Interval.Judge(lvef, Interval.Above(Thresholds.LvefHigh)) == Verdict.Met;
        var summary = order is null
            ? Fit($"{MrPhrase(s)}, {JoinAnd(values)}: outside the COAPT-like range", $"{MrPhrase(s)}: {values.Count} value(s) outside the COAPT-like range")
            : Fit($"Ordering {ShortName(order)}: {JoinAnd(values)}, outside the COAPT-like range", $"Ordering {ShortName(order)}: values outside the COAPT-like range");
        var detail = new Detail()
            .Para($"{Capitalise(JoinAnd(values))}. {MechanismSentence(s)}")
            .Values(s, s.Mr, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .ParaIf(preservedEf,
                $"With an LVEF above the COAPT-like range (atrial or preserved-EF secondary MR), the evidence for TEER is limited: " +
                $"rhythm control and heart-failure treatment come first, and the Heart Valve Team may still consider intervention.")
            .Para($"The benefit of TEER is less established outside the range. COAPT enrolled LVEF {Thresholds.LvefWindowText}, LVESD {Thresholds.LvesdWindowText} " +
                  $"and PASP {Thresholds.PaspWindowText}; MITRA-FR, with more LV dilation relative to the MR, showed no clear benefit. The Heart Valve Team may " +
                  $"still consider it, and advanced heart-failure therapies may be relevant.")
            .Context(s)
            .Evidence($"Trial contrast, not a graded recommendation: COAPT (Stone, NEJM 2018) and MITRA-FR (Obadia, NEJM 2018).")
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["coapt-and-mitra-fr", "secondary-mr-causes-and-mechanisms"],
            ["already-evaluated-hvt", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, s.CurrentLvef?.Source, s.CurrentLvesd?.Source, s.CurrentPasp?.Source));
    }
}
