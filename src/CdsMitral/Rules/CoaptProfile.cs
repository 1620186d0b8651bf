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
        var severe = mr.Grade >= Thresholds.SevereMrGrade;
        var gdmtGap = s.Gdmt.Missing.Count > 0;
        var prior = s.PriorTeerOrRepair;
        var atrial = s.Mechanism.Subtype == "atrial";
        var presumed = s.Mechanism.Presumed;
        var nyhaOne = NyhaOne(s);
        // The guideline grades concern severe ventricular secondary MR with persistent symptoms on optimised GDMT and no prior
        // intervention (decision 22): quoted only when the record shows nothing against that.
        var graded = severe && !presumed && !atrial && !gdmtGap && !nyhaOne && prior is null;
        var what = prior is null ? MrPhrase(s) : $"{MrPhrase(s)} after {ProcedureWord(prior)} ({prior.DateText})";
        // Decision 21: what comes first leads the summary: GDMT, then what the record leaves to confirm, then the review.
        List<string> confirms = [];
        if (presumed)
        {
            confirms.Add("mechanism");
        }
        if (!severe)
        {
            confirms.Add("severity");
        }
        if (nyhaOne)
        {
            confirms.Add("symptoms (NYHA I on record)");
        }
        var confirm = confirms.Count == 0 ? "" : $"confirm {JoinAnd(confirms)}";
        var review = atrial ? "rhythm and heart-failure treatment first; the evidence for TEER is limited" : "consider Heart Valve Team review";
        string Lead(string? gdmt, string review) => (gdmt, confirm.Length > 0, atrial) switch
        {
            (null, false, _) => review,
            (null, true, _) => $"{confirm}, then {review}",
            (_, false, true) => $"optimise GDMT ({gdmt}); {review}",
            (_, false, false) => $"optimise GDMT ({gdmt}), then {review}",
            (_, true, _) => $"optimise GDMT ({gdmt}) and {confirm}, then {review}",
        };
        var all = ValuesPhrase(s);
        var lvefOnly = $"LVEF {lvef.Display}";
        var date = DatesOf(lvef, lvesd, pasp);
        var classes = s.Gdmt.Missing.Count == 1 ? "1 class not on record" : $"{s.Gdmt.Missing.Count} classes not on record";
        string?[] gdmts = gdmtGap ? [MissingGdmt(s), MissingGdmt(s, brief: true), classes] : [null];
        // The fullest wording that fits: every value with its date, then without the date, then shorter class names, then
        // LVEF alone, and only then the number of classes.
        var named = gdmtGap ? gdmts[..2] : gdmts;
        // When "consider" is all that stands between the values and the limit, the values stay and the word goes.
        var terse = atrial ? review : "Heart Valve Team review";
        var summary = Fit([
            .. named.Select(g => $"{what}, {all} ({date}): {Lead(g, review)}"),
            .. named.Select(g => $"{what}, {all}: {Lead(g, review)}"),
            .. named.Select(g => $"{what}, {all}: {Lead(g, terse)}"),
            .. named.Select(g => $"{what}, {lvefOnly} ({date}): {Lead(g, review)}"),
            .. gdmts.Skip(named.Length).Select(g => $"{what}, {all} ({date}): {Lead(g, review)}"),
            .. gdmts.Select(g => $"{what}, {lvefOnly}: {Lead(g, review)}"),
            $"{what}: {Lead(gdmtGap ? classes : null, review)}",
        ]);
        var detail = new Detail()
            .Para($"{MrOn(s)}. {MechanismSentence(s)}")
            .ParaIf(prior is not null, $"{Capitalise(Markdown.Plain(prior?.Name))} on {prior?.DateText} ({prior?.Source}) is on record: this MR is residual or recurrent after it. Redo TEER, transcatheter mitral valve replacement and surgery are separate questions for the Heart Valve Team; the COAPT trial window is no guide to them.")
            .ParaIf(prior is null, $"The recorded values fall inside the COAPT trial window ({Evidence.CoaptWindow}); this is not an indication: symptoms on maximally tolerated GDMT, anatomy and surgical risk decide.")
            .Values(s, mr, lvef, lvesd, pasp)
            .Para(gdmtGap
                ? Markdown.Of($"{new Markdown.Trusted("**GDMT first:**")} {MissingGdmt(s)}. {new Markdown.Trusted(Evidence.GdmtFirst)}")
                : Markdown.Of($"All four GDMT classes have an active medication on record; doses are not judged here."))
            .GdmtNotes(s)
            .ParaIf(!severe, $"{new Markdown.Trusted("**Severity:**")} {mr.Label} ({mr.DateText}). {new Markdown.Trusted(Evidence.ModerateSevere)}")
            .ParaIf(presumed, $"{new Markdown.Trusted("**Mechanism:**")} {s.Mechanism.Basis}. {new Markdown.Trusted(Evidence.ConfirmMechanism)}")
            .ParaIf(atrial, $"{new Markdown.Trusted("**Atrial mechanism:**")} {new Markdown.Trusted(Evidence.Atrial)}")
            .ParaIf(nyhaOne, $"NYHA I on {s.NyhaClass?.DateText} ({s.NyhaClass?.Source}): {new Markdown.Trusted(Evidence.CoaptNyha)}")
            .Heading($"What the record cannot show; the Heart Valve Team confirms")
            .Bullets(CannotShow(s, prior is not null))
            .Context(s)
            .Basis(prior is not null ? [Evidence.Redo]
                : graded ? [Evidence.TeerGradesSevere, Evidence.Coapt5Year]
                : severe ? [Evidence.GradesWithheld, Evidence.Coapt5Year]
                : [Evidence.Coapt5Year, Evidence.ReshapeHf2])
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail,
            ["coapt-and-mitra-fr", "teer-procedure", "gdmt-before-intervention"],
            ["already-evaluated-hvt", "patient-refuses", "chart-data-outdated", "action-not-priority"],
            Inputs(mr.Source, lvef.Source, lvesd.Source, pasp.Source, s.Mechanism.Sources, prior?.Source, s.NyhaClass?.Source),
            SuggestHeartTeamReview: true);
    }

    private static IEnumerable<Markdown.Safe> CannotShow(Snapshot.ClinicalSnapshot s, bool afterRepair)
    {
        yield return Markdown.Of($"GDMT at maximally tolerated doses, and cardiac resynchronisation where indicated");
        if (!NyhaOne(s))
        {
            yield return Markdown.Of($"Persistent symptoms, {new Markdown.Trusted(Thresholds.CoaptNyhaText)}{NyhaText(s)}");
        }
        yield return Markdown.Of($"Heart-failure hospitalisation in the past year, or raised natriuretic peptides");
        yield return afterRepair
            ? Markdown.Of($"Anatomy after the procedure on transoesophageal echo (mean gradient, residual orifice) for redo TEER, valve replacement or surgery")
            : Markdown.Of($"Valve anatomy suitable for TEER on transoesophageal echo");
        yield return Markdown.Of($"{SurgeryBullet(s)}");
    }
}
