using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>5. Post-TEER framing: a prior TEER or mitral repair and a current LVEF below 50 %, whatever the MR mechanism
/// (decision 12): the ventricle is still an HFrEF ventricle.</summary>
internal sealed class PostTeer : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.PostTeer, "1.1.0", "Post-TEER framing");

    public string Description => "A completed TEER or mitral repair and a current LVEF below 50 %, whatever the MR mechanism: the ventricle is still an HFrEF ventricle. `info`.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c) =>
    [
        PriorRepair(c),
        Rules.Criteria.ReducedEf(c.Snapshot),
    ];

    public static Criterion PriorRepair(RuleContext c) =>
        c.Snapshot.PriorTeerOrRepair is { } p
            ? new("prior TEER or mitral repair", Verdict.Met, $"{p.Name} on {p.DateText} ({p.Source})")
            : new("prior TEER or mitral repair", Verdict.NotMet, "no completed TEER or mitral repair on record");

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var (procedure, lvef) = (s.PriorTeerOrRepair!, s.CurrentLvef!);
        var summary = $"Prior {ProcedureWord(procedure)} ({procedure.DateText}) and LVEF {lvef.Display}: still evaluate and treat as HFrEF";
        var detail = new Detail()
            .Para($"{Capitalise(Cards.Markdown.Plain(procedure.Name))} on {procedure.DateText} ({procedure.Source}); LVEF {lvef.Display} on {lvef.DateText} ({lvef.Source}).")
            .Para($"Mitral repair treats the regurgitation, not the ventricle: LVEF rarely normalises afterwards. " +
                  $"GDMT, device therapy and perioperative risk assessment still follow the HFrEF substrate (LVEF, LV size, RV function, pulmonary pressure).")
            .Values(s, s.Mr, null, s.CurrentLvesd, s.CurrentPasp)
            .Evidence($"Expert framing, not a graded recommendation.")
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["why-teer-does-not-fix-the-ventricle", "perioperative-secondary-mr"],
            ["action-not-priority", "chart-data-outdated"], Inputs(procedure.Source, lvef.Source));
    }
}
