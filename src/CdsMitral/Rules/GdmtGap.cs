using CdsMitral.Cards;
using CdsMitral.Clinical;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>2. GDMT first: significant secondary MR on an HFrEF substrate, and a GDMT class with no recognised medication on
/// board. On order-select, only for a selected mitral intervention.</summary>
internal sealed class GdmtGap : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.GdmtGap, "2.0.0", "GDMT first");

    public string Description => "Significant secondary MR on an HFrEF-like substrate, and at least one GDMT class without a medication on board. `warning`. " +
        "When a medication on record could not be classified, or metoprolol is recorded without its salt, the card speaks only of a *recognised* drug; " +
        "finerenone is named as a non-steroidal MRA that is not an HFrEF pillar.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMr(s, current: false));
        criteria.Add(Rules.Criteria.SecondaryMechanism(s));
        criteria.Add(HfrefSubstrate(s));
        criteria.Add(s.Gdmt.Missing.Count > 0
            ? new("a GDMT class without a medication on board", Verdict.Met, MissingGdmt(s))
            : new("a GDMT class without a medication on board", Verdict.NotMet, "all four GDMT classes have an active medication on record"));
        return criteria;
    }

    /// <summary>HFrEF GDMT is judged only on an HFrEF-like substrate: a current LVEF below 50 % or a confirmed HFrEF or
    /// cardiomyopathy diagnosis (decision 11: with LVEF above 50 % only the diagnosis makes the gap).</summary>
    internal static Criterion HfrefSubstrate(ClinicalSnapshot s)
    {
        var name = $"HFrEF substrate (LVEF below {Thresholds.ReducedEfBelow.Text("%")} or an HFrEF or cardiomyopathy diagnosis)";
        if (s.HfrefConditions.Concat(s.Cardiomyopathies).FirstOrDefault() is { } dx)
        {
            return new(name, Verdict.Met, $"{dx.Name} ({dx.Source})");
        }
        var lvef = Rules.Criteria.ReducedEf(s);
        return lvef.Verdict switch
        {
            Verdict.Met => new(name, Verdict.Met, lvef.Reason),
            Verdict.NotMet => new(name, Verdict.NotMet, $"{lvef.Reason}, and no HFrEF or cardiomyopathy diagnosis on record"),
            _ => new(name, Verdict.CannotJudge, $"{lvef.Reason}, and no HFrEF or cardiomyopathy diagnosis on record"),
        };
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.OnOrder ? c.MitralOrder : null;
        var recognised = s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "";
        // The MR grade's date is named when it is not the LVEF's (the clinical review: an old grade must not read as current).
        var substrate = s.CurrentLvef is { } lvef
            ? lvef.DateText == s.Mr!.DateText ? $"LVEF {lvef.Display} ({lvef.DateText})" : $"MR {s.Mr.DateText}, LVEF {lvef.Display} ({lvef.DateText})"
            : $"{s.Mr!.DateText}";
        var summary = order is null
            ? Fit($"{MrPhrase(s)}, {substrate}: {MissingGdmt(s)}; optimise GDMT before intervention",
                $"{MrPhrase(s)}, {substrate}: {MissingGdmt(s)}; optimise GDMT first",
                $"{MrPhrase(s)}: {MissingGdmt(s)}; optimise GDMT first",
                $"{MrPhrase(s)}, {substrate}: {MissingGdmtCount(s)}; optimise GDMT before intervention",
                $"{MrPhrase(s)}: {MissingGdmtCount(s)}; optimise GDMT first")
            : Fit($"{OrderLead(c, order)}: {MissingGdmt(s)}; GDMT comes before intervention",
                $"{OrderLead(c, order)}: {MissingGdmtCount(s)}; GDMT comes before intervention");
        var unrecognised = s.Gdmt.Unrecognised;
        var detail = new Detail()
            .ParaIf(order is not null, $"{OrderHeading(c, 1)}: {order?.Name} ({order?.Key}).")
            .Para($"{MrOn(s)}. {MechanismSentence(s)}")
            .Heading($"GDMT on the active medication list (planned, proposed and do-not-give orders not counted)")
            .Bullets(Enum.GetValues<GdmtClass>().Select(k => s.Gdmt.ByClass.TryGetValue(k, out var uses) && uses.Count > 0
                ? Markdown.Of($"{Capitalise(GdmtStatus.Name(k))}: {Markdown.Join(", ", uses.Select(u => Markdown.Of($"{u.Name} ({u.Source})")))}")
                : k == GdmtClass.BetaBlocker && s.Gdmt.AmbiguousBetaBlocker.Count > 0
                    ? Markdown.Of($"{Capitalise(GdmtStatus.Name(k))}: {new Markdown.Trusted("**")}none recognised on record{new Markdown.Trusted("**")} (metoprolol, salt not stated)")
                : k == GdmtClass.Mra && s.Gdmt.NonSteroidalMra.Count > 0
                    ? Markdown.Of($"{Capitalise(GdmtStatus.Name(k))}: {new Markdown.Trusted("**")}no spironolactone or eplerenone on record{new Markdown.Trusted("**")} (finerenone on record: not an HFrEF MRA pillar)")
                    : Markdown.Of($"{Capitalise(GdmtStatus.Name(k))}: {new Markdown.Trusted("**")}none {recognised}on record{new Markdown.Trusted("**")}")))
            .GdmtNotes(s)
            .Para($"Contraindications, intolerance and doses are not visible to this service.")
            .Basis(Evidence.GdmtFirst)
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "warning", summary, detail, ["gdmt-before-intervention"],
            ["gdmt-max-tolerated", "patient-contraindication", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, s.CurrentLvef?.Source, s.Gdmt.ByClass.Values.SelectMany(u => u).Select(u => u.Source).ToArray(),
                unrecognised.Select(u => u.Source).ToArray(), s.Gdmt.AmbiguousBetaBlocker.Select(u => u.Source).ToArray(),
                s.Gdmt.NonSteroidalMra.Select(u => u.Source).ToArray(), order?.Key));
    }
}
