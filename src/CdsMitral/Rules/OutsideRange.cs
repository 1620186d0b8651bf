using CdsMitral.Cards;
using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>3. Outside the COAPT-like range: significant secondary MR with a current LVEF below 20 % or above 50 %
/// (decision 11), LVESD above 70 mm or PASP above 70 mmHg. Each edge says what it means on its own (decision 23). On
/// order-select, only for a selected mitral intervention.</summary>
internal sealed class OutsideRange : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.OutsideRange, "2.0.0", "Outside the COAPT-like range");

    public string Description =>
        $"Significant secondary MR with a current value wholly outside the COAPT trial window: LVEF below {Thresholds.LvefLow.Text("%")} or above " +
        $"{Thresholds.LvefHigh.Text("%")}, LVESD above {Thresholds.LvesdMax.Text("mm")}, PASP above {Thresholds.PaspMax.Text("mmHg")}. `info`. Each value " +
        "is explained on its own: a very low LVEF (the MITRA-FR contrast, advanced heart-failure therapies), a dilated ventricle, " +
        "pulmonary pressure (a COAPT exclusion: RV function, type of pulmonary hypertension), and a preserved LVEF (atrial or " +
        "preserved-EF secondary MR: rhythm and heart-failure treatment first; no HFrEF text).";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMr(s, current: false));
        criteria.Add(Rules.Criteria.SecondaryMechanism(s));
        var outside = Rules.Criteria.OutsideWindow(s, out var undecided);
        const string name = "a current value outside the COAPT-like range";
        criteria.Add(outside.Count > 0 ? new(name, Verdict.Met, JoinAnd(outside.Select(o => o.Words).ToList()))
            : undecided ? new(name, Verdict.CannotJudge, "a value recorded as an interval cannot be placed inside or outside the range")
            : new(name, Verdict.NotMet, $"no current LVEF outside {Thresholds.LvefWindowText}, LVESD above {Thresholds.LvesdMax.Text("mm")} or PASP above {Thresholds.PaspMax.Text("mmHg")}"));
        return criteria;
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.OnOrder ? c.MitralOrder : null;
        var outside = Rules.Criteria.OutsideWindow(s, out _);
        var dated = JoinAnd(outside.Select(o => o.DatedWords).ToList());
        var words = JoinAnd(outside.Select(o => o.Words).ToList());
        // One value says what it means in the summary too (the clinical review: "outside the range" alone says nothing); the MR
        // grade's date is named when it is not the values' date.
        var what = s.Mr!.DateText == DatesOf([.. outside.Select(o => o.Value)]) ? MrPhrase(s) : $"{MrPhrase(s)} ({s.Mr.DateText})";
        var lead = order is null ? what : OrderLead(c, order);
        var summary = outside.Count == 1
            ? Fit($"{lead}: {outside[0].DatedWords}, {Brief(outside[0].Edge)}", $"{lead}: {outside[0].Words}, {Brief(outside[0].Edge)}",
                $"{lead}: {outside[0].DatedWords}, outside the COAPT-like range")
            : Fit($"{lead}: {dated}, outside the COAPT-like range", $"{lead}: {words}, outside the COAPT-like range",
                $"{lead}: {outside.Count} values outside the COAPT-like range ({DatesOf([.. outside.Select(o => o.Value)])})");
        var detail = new Detail()
            .ParaIf(order is not null, $"{OrderHeading(c, 1)}: {order?.Name} ({order?.Key}).")
            .Para($"{MrOn(s)}. {MechanismSentence(s)}")
            .Values(s, s.Mr, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp, ranges: true)
            .Bullets(outside.Select(o => Markdown.Of($"{Bold}{Capitalise(o.Words)}:{Bold} {new Markdown.Trusted(Meaning(o.Edge))}")))
            .Para($"The Heart Valve Team may still consider intervention.")
            .Context(s)
            .Basis([.. outside.Select(o => o.Edge switch
            {
                Rules.Criteria.Edge.LvefHigh => Evidence.TrialPopulations,
                Rules.Criteria.Edge.Pasp => Evidence.CoaptExclusion,
                _ => Evidence.TrialContrast,
            }).Distinct()])
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["coapt-and-mitra-fr", "secondary-mr-causes-and-mechanisms"],
            ["already-evaluated-hvt", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, s.CurrentLvef?.Source, s.CurrentLvesd?.Source, s.CurrentPasp?.Source, order?.Key));
    }

    private static readonly Markdown.Trusted Bold = new("**");

    /// <summary>What one edge means, in a summary's few words.</summary>
    private static string Brief(Rules.Criteria.Edge edge) => edge switch
    {
        Rules.Criteria.Edge.LvefLow => "below COAPT's range; TEER benefit less established",
        Rules.Criteria.Edge.LvefHigh => "atrial or preserved-EF MR; rhythm and heart-failure treatment first",
        Rules.Criteria.Edge.Lvesd => "LV dilated beyond COAPT's limit; TEER benefit less established",
        _ => "a COAPT exclusion; assess RV function and pulmonary hypertension type",
    };

    /// <summary>What each edge means (decision 23): the MITRA-FR sentence only where it applies, no HFrEF text for a preserved LVEF.</summary>
    private static string Meaning(Rules.Criteria.Edge edge) => edge switch
    {
        Rules.Criteria.Edge.LvefLow =>
            $"below the range COAPT enrolled. {Evidence.MitraFr} Advanced heart-failure therapies may be the question for the heart-failure team.",
        Rules.Criteria.Edge.Lvesd =>
            "a ventricle dilated beyond COAPT's limit: the MR may be proportionate to the LV size, and the benefit of reducing it is less established.",
        Rules.Criteria.Edge.Pasp =>
            "a COAPT exclusion: RV function and the type of pulmonary hypertension need assessment before intervention is weighed.",
        _ => $"atrial or preserved-EF secondary MR. {Evidence.PreservedEf}",
    };
}
