using CdsMitral.Cards;
using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>7. Another surgery selected in a patient with significant secondary MR, or after TEER or mitral repair whatever
/// the mechanism (decision 12): perioperative risk sits in the HFrEF substrate, and the question is whether elective
/// surgery could wait while heart failure is optimised (decision 30). On order-select it also carries the post-TEER message.
/// Values carry no eligibility ranges; orders go by their short labels (decision 24).</summary>
internal sealed class Periop : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.Periop, "2.0.0", "Other surgery with secondary MR or after TEER");

    public string Description => "A non-mitral surgical order selected, with significant secondary MR or after TEER or mitral repair (any mechanism): " +
        "perioperative risk sits in the HFrEF substrate, and could elective surgery wait while heart failure is optimised? `info`; the only card for a surgical order.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        var surgeries = c.Surgeries;
        var surgery = surgeries.Count > 0
            ? new Criterion("non-mitral surgery selected", Verdict.Met, string.Join(", ", surgeries.Select(o => $"{o.Name} ({o.Key})")) + Orders.IgnoredNote(c.Orders))
            : new Criterion("non-mitral surgery selected", Verdict.NotMet, "no non-mitral surgical order among the selections" + Orders.IgnoredNote(c.Orders));
        var prior = PostTeer.PriorRepair(c);
        var mr = Rules.Criteria.SignificantMr(s, current: false);
        var mechanism = Rules.Criteria.SecondaryMechanism(s);
        const string name = "significant secondary MR, or a prior TEER or mitral repair";
        var substrate = prior.IsMet ? new Criterion(name, Verdict.Met, prior.Reason)
            : mr.IsMet && mechanism.IsMet ? new Criterion(name, Verdict.Met, $"{mr.Reason}; {mechanism.Reason}")
            : new Criterion(name, mr.Verdict == Verdict.CannotJudge || mechanism.Verdict == Verdict.CannotJudge ? Verdict.CannotJudge : Verdict.NotMet,
                $"{prior.Reason}; {(mr.IsMet ? mechanism.Reason : mr.Reason)}");
        return [surgery, substrate];
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var surgeries = c.Surgeries;
        var postTeer = s.PriorTeerOrRepair;
        var what = surgeries.Count switch
        {
            1 => surgeries[0].Label,
            2 => $"{surgeries[0].Label} and {Lower(surgeries[1].Label)}",
            _ => $"{surgeries[0].Label} and {surgeries.Count - 1} other operations",
        };
        var lvef = s.CurrentLvef is { } ef ? $"LVEF {ef.Display} ({ef.DateText})" : "no current LVEF";
        var who = postTeer is not null ? $"after {ProcedureWord(postTeer)} ({postTeer.DateText})" : $"with {Uncapitalise(MrPhrase(s))}";
        var reduced = GdmtGap.HfrefSubstrate(s).IsMet;
        var secondaryMr = s.SignificantSecondaryMr;
        // With CABG and significant secondary MR the question is mitral surgery at the same operation; with a preserved LVEF
        // after repair there is no HFrEF substrate to speak of; otherwise the substrate and whether elective surgery can wait.
        var summary = surgeries.Any(o => o.Cabg) && secondaryMr
            ? Fit($"{Capitalise(what)} {who}, {lvef}: Heart Valve Team to weigh mitral surgery at the same operation",
                $"{Capitalise(what)} {who}: Heart Valve Team to weigh mitral surgery at the same operation")
            : !reduced
                ? Fit($"{Capitalise(what)} {who}, {lvef}: check residual MR, mitral gradient and RV function before surgery",
                    $"{Capitalise(what)} {who}: check residual MR, mitral gradient and RV function before surgery")
                : Fit($"{Capitalise(what)} {who}, {lvef}: risk sits in the HFrEF substrate; could surgery wait while HF is optimised?",
                    $"{Capitalise(what)} {who}, {lvef}: perioperative risk sits in the HFrEF substrate, not the MR grade alone",
                    $"{Capitalise(what)} {who}: perioperative risk sits in the HFrEF substrate, not the MR grade alone");
        var detail = new Detail()
            .Para($"{OrderHeading(c, surgeries.Count)}: {Markdown.Join(", ", surgeries.Select(o => Markdown.Of($"{o.Name} ({o.Key})")))}.")
            .ParaIf(postTeer is not null, $"{Capitalise(Markdown.Plain(postTeer?.Name))} on {postTeer?.DateText} ({postTeer?.Source}): a repaired valve does not make the ventricle normal.")
            .ParaIf(s.SignificantMr, $"{MrPhrase(s)} ({s.Mr?.DateText}).")
            .Values(s, null, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .Heading($"Perioperative risk follows")
            .Bullets(Markdown.Of($"LVEF and LV size"), Markdown.Of($"RV function and pulmonary pressure"), Markdown.Of($"GDMT status: {GdmtSummary(s)}"),
                Markdown.Of($"Recent heart-failure admission (not visible to this service)"))
            .StatementIf(surgeries.Any(o => o.Cabg) && secondaryMr, Evidence.SurgerySecondary)
            .StatementIf(reduced && !surgeries.All(o => o.Cabg), $"**{Evidence.PeriopQuestion}** If heart failure is not yet on optimised GDMT, timing is a question for the surgeon, the anaesthetist and the heart-failure team.")
            .Basis(Evidence.Framing)
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["perioperative-secondary-mr", "why-teer-does-not-fix-the-ventricle"],
            ["action-not-priority", "chart-data-outdated"],
            Inputs(surgeries.Select(o => o.Key).Concat([postTeer?.Source, s.Mr?.Source, s.CurrentLvef?.Source]).ToArray()));
    }

    /// <summary>A label in the middle of a sentence: "Cholecystectomy" becomes "cholecystectomy", "CABG" stays.</summary>
    private static string Lower(string label) => label.Length > 1 && char.IsLower(label[1]) ? Uncapitalise(label) : label;
}
