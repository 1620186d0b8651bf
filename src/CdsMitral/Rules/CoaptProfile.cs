using CdsMitral.Cards;
using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>1. COAPT-like profile: significant secondary MR with LVEF, LVESD and PASP inside the COAPT-like window, all
/// current. Referral framing, never "qualifies"; `info`, because a referral consideration does not earn `warning`.</summary>
internal sealed class CoaptProfile : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.CoaptProfile, "1.1.0", "COAPT-like profile");

    public string Description => "Significant secondary MR with LVEF, LVESD and PASP all current and inside the COAPT-like window: a consideration of Heart Valve Team review for TEER, with what the record cannot show. `info`: a referral consideration does not earn `warning`.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c) =>
    [
        Rules.Criteria.SignificantMr(c.Snapshot, current: true),
        Rules.Criteria.SecondaryMechanism(c.Snapshot),
        Rules.Criteria.LvefInWindow(c.Snapshot),
        Rules.Criteria.LvesdInWindow(c.Snapshot),
        Rules.Criteria.PaspInWindow(c.Snapshot),
    ];

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        var (lvef, lvesd, pasp) = (s.CurrentLvef!, s.CurrentLvesd!, s.CurrentPasp!);
        var gdmtGap = s.Gdmt.Missing.Count > 0;
        var summary = $"{MrPhrase(s)}, LVEF {lvef.Display}, LVESD {lvesd.Display}, PASP {pasp.Display}: consider Heart Valve Team review for TEER";
        var detail = new Detail()
            .Para($"The record matches the COAPT-like profile for transcatheter edge-to-edge repair (TEER) review. {MechanismSentence(s)}")
            .Values(s, s.Mr, lvef, lvesd, pasp)
            .Para(gdmtGap
                ? Markdown.Of($"{new Markdown.Trusted("**GDMT optimisation comes first:**")} {MissingGdmt(s)}. The profile applies to patients on maximally tolerated GDMT.")
                : Markdown.Of($"All four GDMT classes have an active medication on record; doses are not judged here."))
            .Heading($"What the record cannot show; the Heart Valve Team confirms")
            .Bullets(
                Markdown.Of($"GDMT at maximally tolerated doses (and cardiac resynchronisation where indicated)"),
                Markdown.Of($"Persistent symptoms, NYHA II to ambulatory IV{NyhaText(s)}"),
                Markdown.Of($"HF hospitalisation in the past year or raised natriuretic peptide"),
                Markdown.Of($"Valve anatomy suitable for TEER on transoesophageal echo"),
                Markdown.Of($"Surgical risk, and whether surgery is the better option"))
            .Context(s)
            .Evidence($"2020 ACC/AHA valve guideline: TEER is reasonable (class 2a, level B-R) in severe secondary MR with persistent symptoms on optimal GDMT, " +
                      $"LVEF {Thresholds.LvefWindowText}, LVESD {Thresholds.LvesdWindowText}, PASP {Thresholds.PaspWindowText} and suitable anatomy. Trial: COAPT (Stone, NEJM 2018).")
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail,
            ["coapt-and-mitra-fr", "teer-procedure", "gdmt-before-intervention"],
            ["already-evaluated-hvt", "patient-refuses", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, lvef.Source, lvesd.Source, pasp.Source, s.Mechanism.Sources),
            SuggestHeartTeamReview: true);
    }
}
