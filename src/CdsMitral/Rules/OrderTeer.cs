using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>6. A mitral intervention ordered, and no more specific order card (GDMT gap, outside range, data gaps, acute
/// setting) applies: expectation framing. It stands back for those (see <see cref="SecondaryMrRules"/>). Values carry no
/// eligibility ranges (decision 24).</summary>
internal sealed class OrderTeer : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.OrderTeer, "2.0.0", "Mitral intervention ordered");

    public string Description => "A mitral intervention (TEER, repair, replacement) among the selected orders, MR not recorded as primary, and no more " +
        "specific order card: expectation framing (it treats the leak, not the ventricle; procedural success is not clinical success). `info`.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c) =>
    [
        Rules.Criteria.MitralOrderSelected(c),
        Rules.Criteria.NotPrimary(c.Snapshot),
    ];

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var order = c.MitralOrder!;
        // The clinical review: an invasive order with no MR grade, or a grade that is not significant, must not read as reassured.
        var summary = s.Mr switch
        {
            null => Fit($"{OrderLead(c, order)}: no MR grade found in the record; confirm MR severity and mechanism on a current echo"),
            { IsSignificant: false } mr => Fit($"{OrderLead(c, order)}: the latest MR grade is {mr.Label} ({mr.DateText}); confirm severity before intervention"),
            _ when ValuesPhrase(s).Length == 0 => Fit($"{OrderLead(c, order)}: {Uncapitalise(MrPhrase(s))} ({s.Mr.DateText}), no current LVEF, LVESD or PASP; it treats the leak, not the ventricle"),
            _ => Fit($"{OrderLead(c, order)}: {Uncapitalise(MrPhrase(s))}, {ValuesPhrase(s)} ({DatesOf(s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)}); it treats the leak, not the ventricle",
                $"{OrderLead(c, order)}: {Uncapitalise(MrPhrase(s))}, {ValuesPhrase(s)}; it treats the leak, not the ventricle",
                $"{OrderLead(c, order)}: it treats the leak, not the ventricle; the Heart Valve Team confirms the rest"),
        };
        var detail = new Detail()
            .Para($"{OrderHeading(c, 1)}: {order.Name} ({order.Key}).")
            .Para(s.Mr is null
                ? Cards.Markdown.Of($"No MR severity assessment was found in the record.")
                : Cards.Markdown.Of($"{MrPhrase(s)} ({s.Mr.DateText}, {s.Mr.Source}). {MechanismSentence(s)}"))
            .Values(s, null, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .Para($"Mitral intervention reduces the regurgitant load; it does not restore the ventricle.")
            .Statement(Evidence.ProceduralSuccess)
            .Heading($"What the team still confirms")
            .Bullets(Cards.Markdown.Of($"GDMT at maximally tolerated doses"), Cards.Markdown.Of($"Symptoms and heart-failure events despite GDMT"),
                Cards.Markdown.Of($"Anatomy on transoesophageal echo"), Cards.Markdown.Of($"{SurgeryBullet(s)}"))
            .Basis(Evidence.Framing)
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["why-teer-does-not-fix-the-ventricle", "teer-procedure"],
            ["already-evaluated-hvt", "action-not-priority"], Inputs(order.Key, s.Mr?.Source));
    }
}
