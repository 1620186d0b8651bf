using System.Globalization;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

public sealed record RuleInfo(string Id, string Version, string Title);

public static class RuleIds
{
    public const string CoaptProfile = "smr-coapt-profile";
    public const string GdmtGap = "smr-gdmt-gap";
    public const string OutsideRange = "smr-outside-range";
    public const string DataGaps = "smr-data-gaps";
    public const string PostTeer = "smr-post-teer";
    public const string OrderTeer = "smr-order-teer";
    public const string Periop = "smr-periop";
}

/// <summary>What a rule concluded, before it becomes a card: the words, and the inputs that made it fire.</summary>
public sealed record Consideration(
    RuleInfo Rule,
    string Indicator,
    string Summary,
    string Detail,
    IReadOnlyList<string> ContentSlugs,
    IReadOnlyList<string> OverrideReasons,
    IReadOnlyList<string> Inputs,
    bool SuggestHeartTeamReview = false);

/// <summary>One rule's verdict for the audit trail: fired or not, and why, in a sentence.</summary>
public sealed record RuleOutcome(string RuleId, string Version, bool Fired, string Reason);

public sealed record Evaluation(IReadOnlyList<RuleOutcome> Outcomes, IReadOnlyList<Consideration> Considerations)
{
    public IEnumerable<string> FiredRuleIds => Considerations.Select(c => c.Rule.Id);
}

/// <summary>
/// The secondary-MR considerations of clinical-logic.md. Thresholds: COAPT (Stone, NEJM 2018) and the 2020 ACC/AHA
/// valve guideline — LVEF 20–50 %, LVESD ≤ 70 mm, PASP ≤ 70 mmHg; significant MR = moderate-severe (3+) or severe (4+).
/// Pure functions of the snapshot and the selected orders.
/// </summary>
public static class SecondaryMrRules
{
    public const string RuleSetVersion = "1.0.0";

    public static readonly RuleInfo Coapt = new(RuleIds.CoaptProfile, "1.0.0", "COAPT-like profile");
    public static readonly RuleInfo Gdmt = new(RuleIds.GdmtGap, "1.0.0", "GDMT first");
    public static readonly RuleInfo Outside = new(RuleIds.OutsideRange, "1.0.0", "Outside the COAPT-like range");
    public static readonly RuleInfo Gaps = new(RuleIds.DataGaps, "1.0.0", "Data gaps");
    public static readonly RuleInfo PostTeer = new(RuleIds.PostTeer, "1.0.0", "Post-TEER framing");
    public static readonly RuleInfo OrderTeer = new(RuleIds.OrderTeer, "1.0.0", "Mitral intervention ordered");
    public static readonly RuleInfo Periop = new(RuleIds.Periop, "1.0.0", "Other surgery with secondary MR or after TEER");

    public const decimal LvefLow = 20, LvefHigh = 50, LvesdMax = 70, PaspMax = 70, PresumeSecondaryBelowLvef = 50;

    public static IReadOnlyList<RuleInfo> All { get; } = [Coapt, Gdmt, Outside, Gaps, PostTeer, OrderTeer, Periop];

    public static Evaluation EvaluatePatientView(ClinicalSnapshot s)
    {
        var outcomes = new List<RuleOutcome>();
        var fired = new List<Consideration>();
        void Record(RuleInfo rule, Consideration? c, string whyNot)
        {
            outcomes.Add(new RuleOutcome(rule.Id, rule.Version, c is not null, c is null ? whyNot : c.Summary));
            if (c is not null)
            {
                fired.Add(c);
            }
        }

        if (s.Mechanism.Kind == MechanismKind.Primary)
        {
            foreach (var rule in All)
            {
                outcomes.Add(new RuleOutcome(rule.Id, rule.Version, false, $"MR is {s.Mechanism.Basis.Replace("recorded", "recorded as primary", StringComparison.Ordinal)}: no secondary-MR card"));
            }
            return new Evaluation(outcomes, fired);
        }
        var gdmtGap = GdmtGapApplies(s);
        Record(Coapt, CoaptProfile(s, gdmtGap), WhyNotCoapt(s));
        Record(Gdmt, gdmtGap ? GdmtGapCard(s, order: null) : null, WhyNotGdmt(s));
        Record(Outside, OutsideRangeCard(s, order: null), WhyNotOutside(s));
        Record(Gaps, DataGapsCard(s, order: null), "no significant MR on record, or LVEF, LVESD, PASP and mechanism are all current and usable");
        Record(PostTeer, PostTeerCard(s), s.PriorTeerOrRepair is null ? "no prior TEER or mitral repair on record" : "no current LVEF below 50 %");
        outcomes.Add(new RuleOutcome(OrderTeer.Id, OrderTeer.Version, false, "order-select only"));
        outcomes.Add(new RuleOutcome(Periop.Id, Periop.Version, false, "order-select only"));
        return new Evaluation(outcomes, fired);
    }

    public static Evaluation EvaluateOrderSelect(ClinicalSnapshot s, IReadOnlyList<SelectedOrder> orders)
    {
        var outcomes = new List<RuleOutcome>
        {
            new(Coapt.Id, Coapt.Version, false, "not shown on order-select: the referral is already happening"),
            new(PostTeer.Id, PostTeer.Version, false, "on order-select the post-TEER message is carried by the perioperative card"),
        };
        var fired = new List<Consideration>();
        var mitral = orders.FirstOrDefault(o => o.Kind == OrderKind.MitralIntervention);
        var surgeries = orders.Where(o => o.Kind == OrderKind.Surgery).ToList();
        var primary = s.Mechanism.Kind == MechanismKind.Primary;

        if (mitral is null || primary)
        {
            var why = primary ? "MR is recorded as primary: no secondary-MR card" : "no mitral intervention among the selected orders";
            outcomes.AddRange(new[] { Gdmt, Outside, Gaps, OrderTeer }.Select(r => new RuleOutcome(r.Id, r.Version, false, why)));
        }
        else
        {
            var specific = new (RuleInfo Rule, Consideration? Card, string WhyNot)[]
            {
                (Gdmt, GdmtGapApplies(s) ? GdmtGapCard(s, mitral) : null, WhyNotGdmt(s)),
                (Outside, OutsideRangeCard(s, mitral), WhyNotOutside(s)),
                (Gaps, DataGapsCard(s, mitral), "LVEF, LVESD, PASP and mechanism are all current and usable, or no significant MR on record"),
            };
            foreach (var (rule, card, whyNot) in specific)
            {
                outcomes.Add(new RuleOutcome(rule.Id, rule.Version, card is not null, card?.Summary ?? whyNot));
                if (card is not null)
                {
                    fired.Add(card);
                }
            }
            var framing = fired.Count == 0 ? OrderTeerCard(s, mitral) : null;
            outcomes.Add(new RuleOutcome(OrderTeer.Id, OrderTeer.Version, framing is not null, framing?.Summary ?? "a more specific order card applies"));
            if (framing is not null)
            {
                fired.Add(framing);
            }
        }

        var periop = surgeries.Count > 0 && !primary ? PeriopCard(s, surgeries) : null;
        outcomes.Add(new RuleOutcome(Periop.Id, Periop.Version, periop is not null, periop?.Summary ?? (surgeries.Count == 0
            ? "no non-mitral surgical order among the selections"
            : primary ? "MR is recorded as primary" : "no significant secondary MR and no prior TEER or mitral repair on record")));
        if (periop is not null)
        {
            fired.Add(periop);
        }
        return new Evaluation(outcomes, fired);
    }

    // ---- 1. COAPT-like profile -------------------------------------------------------------------------------

    private static Consideration? CoaptProfile(ClinicalSnapshot s, bool gdmtGap)
    {
        if (!s.SignificantSecondaryMr || s.Mr!.IsStale
            || s.CurrentLvef is not { Value: >= LvefLow and <= LvefHigh } lvef
            || s.CurrentLvesd is not { Value: <= LvesdMax } lvesd
            || s.CurrentPasp is not { Value: <= PaspMax } pasp)
        {
            return null;
        }
        var summary = $"{MrPhrase(s)}, LVEF {lvef.Display}, LVESD {lvesd.Display}, PASP {pasp.Display}: consider Heart Valve Team review for TEER";
        var detail = new Detail()
            .Para($"The record matches the COAPT-like profile for transcatheter edge-to-edge repair (TEER) review. {MechanismSentence(s)}")
            .Values(s, s.Mr, lvef, lvesd, pasp)
            .Para(gdmtGap
                ? $"**GDMT optimisation comes first:** {MissingGdmtText(s)}. The profile applies to patients on maximally tolerated GDMT."
                : "All four GDMT classes have an active medication on record; doses are not judged here.")
            .Heading("What the record cannot show; the Heart Valve Team confirms")
            .Bullets(
                "GDMT at maximally tolerated doses (and cardiac resynchronisation where indicated)",
                $"Persistent symptoms, NYHA II to ambulatory IV{NyhaText(s)}",
                "HF hospitalisation in the past year or raised natriuretic peptide",
                "Valve anatomy suitable for TEER on transoesophageal echo",
                "Surgical risk, and whether surgery is the better option")
            .Context(s)
            .Evidence("2020 ACC/AHA valve guideline: TEER is reasonable (class 2a, level B-R) in severe secondary MR with persistent symptoms on optimal GDMT, LVEF 20–50 %, LVESD ≤ 70 mm, PASP ≤ 70 mmHg and suitable anatomy. Trial: COAPT (Stone, NEJM 2018).")
            .Caveats(s)
            .ToString();
        return new Consideration(Coapt, "info", summary, detail,
            ["coapt-and-mitra-fr", "teer-procedure", "gdmt-before-intervention"],
            ["already-evaluated-hvt", "patient-refuses", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, lvef.Source, lvesd.Source, pasp.Source, s.Mechanism.Sources),
            SuggestHeartTeamReview: true);
    }

    private static string WhyNotCoapt(ClinicalSnapshot s)
    {
        if (!s.SignificantMr)
        {
            return "no moderate-severe or severe MR on record";
        }
        if (!s.Mechanism.IsSecondary)
        {
            return $"mechanism {s.Mechanism.Label}";
        }
        if (s.Mr!.IsStale)
        {
            return $"MR assessment of {s.Mr.DateText} is stale";
        }
        var reasons = new List<string>();
        reasons.AddRange(Missing(s).Select(m => $"{m} not current"));
        if (s.CurrentLvef is { } lvef && (lvef.Value < LvefLow || lvef.Value > LvefHigh))
        {
            reasons.Add($"LVEF {lvef.Display} outside 20–50 %");
        }
        if (s.CurrentLvesd is { Value: > LvesdMax } lvesd)
        {
            reasons.Add($"LVESD {lvesd.Display} > 70 mm");
        }
        if (s.CurrentPasp is { Value: > PaspMax } pasp)
        {
            reasons.Add($"PASP {pasp.Display} > 70 mmHg");
        }
        return string.Join("; ", reasons);
    }

    // ---- 2. GDMT first ---------------------------------------------------------------------------------------

    /// <summary>HFrEF GDMT is judged only where the substrate is HFrEF-like: a current LVEF below 50 % or an HFrEF /
    /// cardiomyopathy diagnosis. (Interpretation: clinical-logic.md's pillars are HFrEF therapy; with a preserved EF
    /// and atrial secondary MR, a missing MRA is not a gap.)</summary>
    private static bool GdmtGapApplies(ClinicalSnapshot s) =>
        s.SignificantSecondaryMr
        && (s.CurrentLvef is { Value: < PresumeSecondaryBelowLvef } || s.HfrefConditions.Count > 0 || s.Cardiomyopathies.Count > 0)
        && (s.Gdmt.Missing.Count > 0);

    private static string WhyNotGdmt(ClinicalSnapshot s) =>
        !s.SignificantSecondaryMr ? "no significant secondary MR on record"
        : s.Gdmt.Missing.Count == 0 ? "all four GDMT classes have an active medication on record"
        : "no HFrEF substrate on record (no current LVEF below 50 %, no HFrEF or cardiomyopathy diagnosis)";

    private static Consideration GdmtGapCard(ClinicalSnapshot s, SelectedOrder? order)
    {
        var missing = s.Gdmt.Missing.Select(GdmtStatus.Name).ToList();
        var missingList = JoinOr(missing);
        var summary = order is null
            ? $"Secondary MR with GDMT gap: no {missingList} on record; optimise GDMT before intervention"
            : $"Ordering {ShortName(order)}: no {missingList} on record; GDMT comes before intervention";
        summary = Fit(summary, order is null ? $"Secondary MR with GDMT gap: {missing.Count} of 4 classes not on record; optimise GDMT first" : $"Ordering {ShortName(order)}: {missing.Count} of 4 GDMT classes not on record");
        var detail = new Detail()
            .Para($"{MrPhrase(s)} is on record. {MechanismSentence(s)} GDMT can reduce secondary MR and sometimes removes the need for intervention.")
            .Heading("GDMT on record (active MedicationStatement or MedicationRequest)")
            .Bullets(Enum.GetValues<GdmtClass>().Select(c => s.Gdmt.ByClass.TryGetValue(c, out var uses) && uses.Count > 0
                ? $"{Capitalise(GdmtStatus.Name(c))}: {string.Join(", ", uses.Select(u => $"{u.Name} ({u.Source})"))}"
                : $"{Capitalise(GdmtStatus.Name(c))}: **none on record**").ToArray())
            .ParaIf(s.Gdmt.AmbiguousBetaBlocker.Count > 0,
                $"Metoprolol is recorded without its salt ({string.Join(", ", s.Gdmt.AmbiguousBetaBlocker.Select(u => u.Source))}): the succinate is an HFrEF beta-blocker, the tartrate is not. Confirm which.")
            .ParaIf(s.Gdmt.Unclassified > 0, $"{s.Gdmt.Unclassified} active medication(s) carry no RxNorm code and could not be classified.")
            .Para("Contraindications, intolerance and doses are not visible to this service.")
            .Evidence("GDMT before intervention: 2020 ACC/AHA valve guideline and the ACC/AHA/HFSA heart failure guideline.")
            .Caveats(s)
            .ToString();
        return new Consideration(Gdmt, "warning", summary, detail, ["gdmt-before-intervention"],
            ["gdmt-max-tolerated", "patient-contraindication", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, s.Gdmt.ByClass.Values.SelectMany(u => u).Select(u => u.Source).ToArray()));
    }

    // ---- 3. Outside the COAPT-like range ---------------------------------------------------------------------

    private static List<string> OutOfRange(ClinicalSnapshot s)
    {
        var values = new List<string>();
        if (s.CurrentLvef is { Value: < LvefLow } lvef)
        {
            values.Add($"LVEF {lvef.Display} is below 20 %");
        }
        if (s.CurrentLvesd is { Value: > LvesdMax } lvesd)
        {
            values.Add($"LVESD {lvesd.Display} is above 70 mm");
        }
        if (s.CurrentPasp is { Value: > PaspMax } pasp)
        {
            values.Add($"PASP {pasp.Display} is above 70 mmHg");
        }
        return values;
    }

    private static string WhyNotOutside(ClinicalSnapshot s) =>
        !s.SignificantSecondaryMr ? "no significant secondary MR on record" : "no current LVEF below 20 %, LVESD above 70 mm or PASP above 70 mmHg";

    private static Consideration? OutsideRangeCard(ClinicalSnapshot s, SelectedOrder? order)
    {
        var values = OutOfRange(s);
        if (!s.SignificantSecondaryMr || values.Count == 0)
        {
            return null;
        }
        var summary = order is null
            ? $"{MrPhrase(s)}, {JoinAnd(values)}: outside the COAPT-like range"
            : $"Ordering {ShortName(order)}: {JoinAnd(values)}, outside the COAPT-like range";
        summary = Fit(summary, order is null ? $"{MrPhrase(s)}: {values.Count} value(s) outside the COAPT-like range" : $"Ordering {ShortName(order)}: values outside the COAPT-like range");
        var detail = new Detail()
            .Para($"{Capitalise(JoinAnd(values))}. {MechanismSentence(s)}")
            .Values(s, s.Mr, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .Para("The benefit of TEER is less established in such patients. COAPT excluded LVEF below 20 %, LVESD above 70 mm and PASP above 70 mmHg; " +
                  "MITRA-FR, with more LV dilation relative to the MR, showed no clear benefit. The Heart Valve Team may still consider it, " +
                  "and advanced heart-failure therapies may be relevant.")
            .Context(s)
            .Evidence("Trial contrast, not a graded recommendation: COAPT (Stone, NEJM 2018) and MITRA-FR (Obadia, NEJM 2018).")
            .Caveats(s)
            .ToString();
        return new Consideration(Outside, "info", summary, detail, ["coapt-and-mitra-fr", "secondary-mr-causes-and-mechanisms"],
            ["already-evaluated-hvt", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr!.Source, s.CurrentLvef?.Source, s.CurrentLvesd?.Source, s.CurrentPasp?.Source));
    }

    // ---- 4. Data gaps ----------------------------------------------------------------------------------------

    private static IEnumerable<string> Missing(ClinicalSnapshot s)
    {
        if (s.CurrentLvef is null) yield return "LVEF";
        if (s.CurrentLvesd is null) yield return "LVESD";
        if (s.CurrentPasp is null) yield return "PASP";
    }

    private static Consideration? DataGapsCard(ClinicalSnapshot s, SelectedOrder? order)
    {
        if (!s.SignificantMr || s.Mechanism.Kind == MechanismKind.Primary)
        {
            return null;
        }
        var gaps = new List<string>();
        foreach (var (name, latest) in new[] { ("LVEF", s.Lvef), ("LVESD", s.Lvesd), ("PASP", s.Pasp) })
        {
            if (latest is null)
            {
                var unusable = s.Findings.Where(f => f.Measure == name).ToList();
                gaps.Add(unusable.Count == 0 ? $"{name}: none on record" : $"{name}: none usable ({string.Join("; ", unusable.Select(f => $"{f.Source} {f.Problem}"))})");
            }
            else if (latest.IsStale)
            {
                gaps.Add($"{name}: latest is {latest.Display} from {latest.DateText}, older than {s.StaleAfterMonths} months");
            }
        }
        if (s.Mr!.IsStale)
        {
            gaps.Add($"MR severity: latest assessment ({s.Mr.Label}) is from {s.Mr.DateText}, older than {s.StaleAfterMonths} months");
        }
        if (s.Mechanism.Kind is MechanismKind.Unknown or MechanismKind.Conflicting)
        {
            gaps.Add($"MR mechanism: {s.Mechanism.Basis}");
        }
        if (gaps.Count == 0)
        {
            return null;
        }
        var names = gaps.Select(g => g[..g.IndexOf(':', StringComparison.Ordinal)]).ToList();
        var summary = order is null
            ? $"{MrPhrase(s, withMechanism: false)} on record; {JoinAnd(names)} missing or out of date: intervention cannot be judged"
            : $"Ordering {ShortName(order)}: {JoinAnd(names)} missing or out of date in the record";
        summary = Fit(summary, order is null ? $"{MrPhrase(s, withMechanism: false)} on record; {gaps.Count} input(s) missing or out of date" : $"Ordering {ShortName(order)}: {gaps.Count} input(s) missing or out of date");
        var detail = new Detail()
            .Para($"{MrPhrase(s, withMechanism: false)} ({s.Mr.DateText}, {s.Mr.Source}) is on record, but what an intervention review needs is not complete:")
            .Bullets(gaps.ToArray())
            .Para("A current transthoracic echo with LVEF, LVESD, PASP and the MR mechanism would allow the considerations to be judged.")
            .Caveats(s)
            .ToString();
        return new Consideration(Gaps, "info", summary, detail, ["secondary-mr-causes-and-mechanisms", "coapt-and-mitra-fr"],
            ["need-more-info", "chart-data-outdated", "action-not-priority"],
            Inputs(s.Mr.Source, s.Lvef?.Source, s.Lvesd?.Source, s.Pasp?.Source, s.Mechanism.Sources));
    }

    // ---- 5. Post-TEER framing --------------------------------------------------------------------------------

    private static Consideration? PostTeerCard(ClinicalSnapshot s)
    {
        if (s.PriorTeerOrRepair is not { } procedure || s.CurrentLvef is not { Value: < PresumeSecondaryBelowLvef } lvef)
        {
            return null;
        }
        var what = procedure.Kind == MitralProcedureKind.Teer ? "TEER" : "mitral repair";
        var summary = $"Prior {what} ({procedure.DateText}) and LVEF {lvef.Display}: still evaluate and treat as HFrEF";
        var detail = new Detail()
            .Para($"{Capitalise(procedure.Name)} on {procedure.DateText} ({procedure.Source}); LVEF {lvef.Display} on {lvef.DateText} ({lvef.Source}).")
            .Para("Mitral repair treats the regurgitation, not the ventricle: LVEF rarely normalises afterwards. " +
                  "GDMT, device therapy and perioperative risk assessment still follow the HFrEF substrate (LVEF, LV size, RV function, pulmonary pressure).")
            .Values(s, s.Mr, null, s.CurrentLvesd, s.CurrentPasp)
            .Evidence("Expert framing, not a graded recommendation.")
            .Caveats(s)
            .ToString();
        return new Consideration(PostTeer, "info", summary, detail, ["why-teer-does-not-fix-the-ventricle", "perioperative-secondary-mr"],
            ["action-not-priority", "chart-data-outdated"], Inputs(procedure.Source, lvef.Source));
    }

    // ---- 6. Mitral intervention ordered: framing when no other order card applies ----------------------------

    private static Consideration OrderTeerCard(ClinicalSnapshot s, SelectedOrder order)
    {
        var summary = Fit($"Ordering {ShortName(order)}: it treats the leak, not the ventricle; the Heart Valve Team confirms the rest",
            $"Ordering {ShortName(order)}: it treats the leak, not the ventricle");
        var detail = new Detail()
            .Para(s.Mr is null
                ? "No MR severity assessment was found in the record."
                : $"{MrPhrase(s)} ({s.Mr.DateText}, {s.Mr.Source}). {MechanismSentence(s)}")
            .Values(s, null, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .Para("Mitral intervention reduces the regurgitant load; it does not restore the ventricle, and LVEF rarely normalises.")
            .Heading("What the team still confirms")
            .Bullets("GDMT at maximally tolerated doses", "Symptoms and HF events despite GDMT", "Anatomy on transoesophageal echo", "Surgical risk and the alternative of surgery")
            .Evidence("Expert framing, not a graded recommendation.")
            .Caveats(s)
            .ToString();
        return new Consideration(OrderTeer, "info", summary, detail, ["why-teer-does-not-fix-the-ventricle", "teer-procedure"],
            ["already-evaluated-hvt", "action-not-priority"], Inputs(order.Key, s.Mr?.Source));
    }

    // ---- 7. Other surgery in secondary MR or after TEER -------------------------------------------------------

    private static Consideration? PeriopCard(ClinicalSnapshot s, List<SelectedOrder> surgeries)
    {
        var postTeer = s.PriorTeerOrRepair;
        if (!s.SignificantSecondaryMr && postTeer is null)
        {
            return null;
        }
        var substrate = s.CurrentLvef is { } lvef ? $"LVEF {lvef.Display}" : "LVEF not current";
        var who = postTeer is not null ? $"after {(postTeer.Kind == MitralProcedureKind.Teer ? "TEER" : "mitral repair")}" : "with secondary MR";
        var summary = Fit($"Surgery {who} ({substrate}): perioperative risk sits in the HFrEF substrate, not the MR grade",
            $"Surgery {who}: perioperative risk sits in the HFrEF substrate");
        var detail = new Detail()
            .Para($"Selected: {string.Join(", ", surgeries.Select(o => $"{o.Name} ({o.Key})"))}.")
            .ParaIf(postTeer is not null, $"{Capitalise(postTeer?.Name ?? "")} on {postTeer?.DateText} ({postTeer?.Source}): a repaired valve does not make the ventricle normal.")
            .ParaIf(s.SignificantMr, $"{MrPhrase(s)} ({s.Mr?.DateText}).")
            .Values(s, null, s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp)
            .Heading("Perioperative risk follows")
            .Bullets("LVEF and LV size", "RV function and pulmonary pressure", $"GDMT status: {GdmtSummary(s)}", "Recent HF admission (not visible to this service)")
            .Evidence("Expert framing, not a graded recommendation.")
            .Caveats(s)
            .ToString();
        return new Consideration(Periop, "info", summary, detail, ["perioperative-secondary-mr", "why-teer-does-not-fix-the-ventricle"],
            ["action-not-priority", "chart-data-outdated"],
            Inputs(surgeries.Select(o => o.Key).Concat([postTeer?.Source, s.Mr?.Source, s.CurrentLvef?.Source]).ToArray()));
    }

    // ---- wording helpers -------------------------------------------------------------------------------------

    private static string MrPhrase(ClinicalSnapshot s, bool withMechanism = true)
    {
        var grade = Capitalise(s.Mr?.Label ?? "no");
        return withMechanism && s.Mechanism.IsSecondary
            ? $"{grade} secondary MR{(s.Mechanism.Presumed ? " (presumed)" : "")}"
            : $"{grade} MR";
    }

    private static string MechanismSentence(ClinicalSnapshot s) => s.Mechanism.Kind switch
    {
        MechanismKind.Secondary when s.Mechanism.Presumed => Capitalise(s.Mechanism.Basis) + ".",
        MechanismKind.Secondary => $"Secondary mechanism{(s.Mechanism.Subtype is { } sub ? $" ({sub})" : "")} recorded ({string.Join(", ", s.Mechanism.Sources)}).",
        _ => $"MR mechanism: {s.Mechanism.Basis}.",
    };

    private static string MissingGdmtText(ClinicalSnapshot s) =>
        $"no {JoinOr(s.Gdmt.Missing.Select(GdmtStatus.Name).ToList())} on record";

    private static string GdmtSummary(ClinicalSnapshot s) =>
        s.Gdmt.Missing.Count == 0 ? "all four classes on record" : MissingGdmtText(s);

    private static string NyhaText(ClinicalSnapshot s) =>
        s.NyhaClass is { } n ? $" (on record: NYHA {Roman(n.Value)} on {n.DateText}{(n.IsStale ? ", stale" : "")})" : " (no NYHA class on record)";

    private static string Roman(decimal c) => c switch { 1 => "I", 2 => "II", 3 => "III", _ => "IV" };

    private static string ShortName(SelectedOrder order) => order.Name.Length <= 40 ? order.Name : order.Name[..39] + "…";

    /// <summary>CDS Hooks: summary is under 140 characters. Falls back to a shorter wording rather than cutting numbers in half.</summary>
    private static string Fit(string summary, string shorter) =>
        summary.Length < 140 ? summary : shorter.Length < 140 ? shorter : shorter[..138] + "…";

    private static string JoinAnd(List<string> items) => Join(items, "and");

    /// <summary>For lists after "no": "no MRA or SGLT2 inhibitor".</summary>
    private static string JoinOr(List<string> items) => Join(items, "or");

    private static string Join(List<string> items, string conjunction) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + $" {conjunction} " + items[^1],
    };

    internal static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..];

    private static List<string> Inputs(params object?[] sources) =>
        sources.SelectMany(s => s switch
        {
            string one => [one],
            IEnumerable<string> many => many,
            _ => [],
        }).Distinct().ToList();
}
