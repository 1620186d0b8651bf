using CdsMitral.Cards;
using CdsMitral.Clinical;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>1. COAPT-like profile: significant secondary MR with LVEF, LVESD and PASP inside the COAPT window, all current.
/// Referral framing, never "qualifies"; `info`, because a referral consideration does not earn `warning`. A missing GDMT
/// pillar leads the summary (decision 21); the grades are quoted for severe MR only (decision 22).</summary>
internal sealed class CoaptProfile : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.CoaptProfile, "2.0.0", "COAPT-like profile");

    public string Description => "Significant secondary MR with LVEF, LVESD and PASP all current and inside the COAPT trial window: a consideration of " +
        "Heart Valve Team review, led by GDMT optimisation when a pillar is missing and by confirming the severity for moderate-severe MR, " +
        "with what the record cannot show. `info`: a referral consideration does not earn `warning`.";

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
        var (mr, lvef, lvesd, pasp) = (s.Mr!, s.CurrentLvef!, s.CurrentLvesd!, s.CurrentPasp!);
        var severe = mr.Grade >= 4;
        var gdmtGap = s.Gdmt.Missing.Count > 0;
        var prior = s.PriorTeerOrRepair;
        var what = prior is null ? MrPhrase(s) : $"{MrPhrase(s)} after {ProcedureWord(prior)} ({prior.DateText})";
        var confirm = severe ? "" : " and confirm severity";
        var then = $"{confirm}, then consider Heart Valve Team review";
        // Decision 21: what comes first leads the summary. The fullest wording that fits: every value with its date, then
        // without the date, then shorter class names, then LVEF alone, and only then the number of classes.
        var all = ValuesPhrase(s);
        var lvefOnly = $"LVEF {lvef.Display}";
        var date = DatesOf(lvef, lvesd, pasp);
        string[] wordings = gdmtGap
            ?
            [
                $"{what}, {all} ({date}): optimise GDMT ({MissingGdmt(s)}){then}",
                $"{what}, {all}: optimise GDMT ({MissingGdmt(s)}){then}",
                $"{what}, {all}: optimise GDMT ({MissingGdmt(s, brief: true)}){then}",
                $"{what}, {lvefOnly} ({date}): optimise GDMT ({MissingGdmt(s)}){then}",
                $"{what}, {lvefOnly}: optimise GDMT ({MissingGdmt(s, brief: true)}){then}",
                $"{what}, {all}: optimise GDMT ({(s.Gdmt.Missing.Count == 1 ? "1 class" : $"{s.Gdmt.Missing.Count} classes")} not on record){then}",
                $"{what}, {all}: optimise GDMT first{then}",
                $"{what}, {lvefOnly}: optimise GDMT first{then}",
                $"{what}: optimise GDMT first{then}",
            ]
            : severe
                ? [$"{what}, {all} ({date}): consider Heart Valve Team review", $"{what}, {all}: consider Heart Valve Team review"]
                : [$"{what}, {all} ({date}): confirm severity, then consider Heart Valve Team review", $"{what}, {all}: confirm severity, then consider Heart Valve Team review"];
        var summary = Fit(wordings);
        var detail = new Detail()
            .Para($"{MrOn(s)}. {MechanismSentence(s)}")
            .ParaIf(prior is not null, $"{Capitalise(Markdown.Plain(prior?.Name))} on {prior?.DateText} ({prior?.Source}) is on record: this MR is residual or recurrent after it. Redo TEER, transcatheter mitral valve replacement and surgery are separate questions for the Heart Valve Team.")
            .Para($"The recorded values fall inside the COAPT trial window ({Evidence.CoaptWindow}); this is not an indication: symptoms on maximally tolerated GDMT, anatomy and surgical risk decide.")
            .Values(s, mr, lvef, lvesd, pasp)
            .Para(gdmtGap
                ? Markdown.Of($"{new Markdown.Trusted("**GDMT first:**")} {MissingGdmt(s)}. {new Markdown.Trusted(Evidence.GdmtFirst)}")
                : Markdown.Of($"All four GDMT classes have an active medication on record; doses are not judged here."))
            .ParaIf(!severe, $"{new Markdown.Trusted("**Severity:**")} {mr.Label} ({mr.DateText}). {new Markdown.Trusted(Evidence.ModerateSevere)}")
            .ParaIf(NyhaOne(s), $"NYHA I on {s.NyhaClass?.DateText} ({s.NyhaClass?.Source}): COAPT enrolled NYHA II to ambulatory IV.")
            .Heading($"What the record cannot show; the Heart Valve Team confirms")
            .Bullets(CannotShow(s))
            .Context(s)
            .Basis(prior is not null ? [Evidence.Redo] : severe ? [Evidence.TeerGradesSevere, Evidence.Coapt5Year] : [Evidence.Coapt5Year, Evidence.ReshapeHf2])
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail,
            ["coapt-and-mitra-fr", "teer-procedure", "gdmt-before-intervention"],
            ["already-evaluated-hvt", "patient-refuses", "chart-data-outdated", "action-not-priority"],
            Inputs(mr.Source, lvef.Source, lvesd.Source, pasp.Source, s.Mechanism.Sources, prior?.Source, s.NyhaClass?.Source),
            SuggestHeartTeamReview: true);
    }

    private static IEnumerable<Markdown.Safe> CannotShow(Snapshot.ClinicalSnapshot s)
    {
        yield return Markdown.Of($"GDMT at maximally tolerated doses, and cardiac resynchronisation where indicated");
        if (!NyhaOne(s))
        {
            yield return Markdown.Of($"Persistent symptoms, NYHA II to ambulatory IV{NyhaText(s)}");
        }
        yield return Markdown.Of($"Heart-failure hospitalisation in the past year, or raised natriuretic peptides");
        yield return Markdown.Of($"Valve anatomy suitable for TEER on transoesophageal echo");
        yield return Markdown.Of($"{SurgeryBullet(s)}");
    }
}
