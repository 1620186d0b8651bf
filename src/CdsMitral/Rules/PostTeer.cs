using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>5. Post-TEER framing: a prior TEER or mitral repair and a current LVEF below 50 %, whatever the MR mechanism
/// (decision 12): the ventricle is still an HFrEF ventricle. Significant MR after the procedure is residual or recurrent
/// (decision 24); values carry no eligibility ranges.</summary>
internal sealed class PostTeer : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.PostTeer, "2.0.0", "Post-TEER framing");

    public string Description => $"A completed TEER or mitral repair and a current LVEF below {Thresholds.ReducedEfBelow.Text("%")}, whatever the MR " +
        "mechanism: the ventricle is still an HFrEF ventricle, and procedural success is not clinical success. Significant MR assessed after " +
        "the procedure is called residual or recurrent. `info`.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c) =>
    [
        PriorRepair(c),
        Rules.Criteria.ReducedEf(c.Snapshot),
    ];

    public static Criterion PriorRepair(RuleContext c) =>
        c.Snapshot.PriorTeerOrRepair is { } p
            ? new("prior TEER or mitral repair", Verdict.Met, $"{p.Name} on {p.DateText} ({p.Source})")
            : new("prior TEER or mitral repair", Verdict.NotMet, "no completed TEER or mitral repair on record");

    /// <summary>Significant MR assessed after the procedure: residual or recurrent (decision 24).</summary>
    public static bool ResidualMr(Snapshot.ClinicalSnapshot s, Snapshot.MitralProcedure procedure) =>
        s.Mr is { IsSignificant: true, IsConflicting: false } mr && (procedure.Date is not { } done || mr.Date >= done);

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var (procedure, lvef) = (s.PriorTeerOrRepair!, s.CurrentLvef!);
        var residual = ResidualMr(s, procedure);
        var primary = s.Mechanism.Kind == Snapshot.MechanismKind.Primary;
        var lead = $"Prior {ProcedureWord(procedure)} ({procedure.DateText})";
        // "Heart failure", not "HFrEF": an LVEF of 41-49 % is mildly reduced (the clinical review of 2026-12-07).
        var unchanged = primary ? "LV dysfunction persists" : "the ventricle is unchanged";
        var summary = residual
            ? Fit($"{lead}, residual or recurrent {s.Mr!.Label} MR and LVEF {lvef.Display} ({DatesOf(lvef) switch { var d when d == s.Mr.DateText => d, var d => $"{s.Mr.DateText}, {d}" }}): still treat the heart failure",
                $"{lead}, residual or recurrent {s.Mr.Label} MR and LVEF {lvef.Display}: still treat the heart failure")
            : Fit($"{lead} and LVEF {lvef.Display} ({lvef.DateText}): {unchanged}; still evaluate and treat the heart failure",
                $"{lead} and LVEF {lvef.Display} ({lvef.DateText}): still evaluate and treat the heart failure");
        var before = s.Mr is { } mr && !residual && Rules.Criteria.PredatesRepair(s) is not null ? mr : null;
        var detail = new Detail()
            .Para($"{Capitalise(Cards.Markdown.Plain(procedure.Name))} on {procedure.DateText} ({procedure.Source}); LVEF {lvef.Display} on {lvef.DateText} ({lvef.Source}).")
            .ParaIf(residual, $"{Capitalise(s.Mr?.Label ?? "")} MR on {s.Mr?.DateText} ({s.Mr?.Source}), after the procedure: residual or recurrent MR. Whether to treat it again (redo TEER, valve replacement or surgery) is a question for the Heart Valve Team.")
            .ParaIf(before is not null, $"The latest MR grade ({before?.Label}, {before?.DateText}, {before?.Source}) is from before the procedure; no later grade is on record.")
            .Para(primary
                ? Cards.Markdown.Of($"After repair of primary MR, LV dysfunction that was there before may persist; it is evaluated and treated as heart failure (LVEF, LV size, RV function, pulmonary pressure).")
                : Cards.Markdown.Of($"Mitral repair treats the regurgitation, not the ventricle. GDMT, device therapy and perioperative risk assessment still follow the heart-failure substrate (LVEF, LV size, RV function, pulmonary pressure)."))
            .Statement(Evidence.ProceduralSuccess)
            .Values(s, residual || before is not null ? null : s.Mr, null, s.CurrentLvesd, s.CurrentPasp)
            .Basis(Evidence.Framing)
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail,
            primary ? ["perioperative-secondary-mr"] : ["why-teer-does-not-fix-the-ventricle", "perioperative-secondary-mr"],
            ["action-not-priority", "chart-data-outdated"], Inputs(procedure.Source, lvef.Source, residual ? s.Mr?.Source : null));
    }
}
