using CdsMitral.Clinical;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;
using Q = CdsMitral.Navigator.NavigatorQuestions;

namespace CdsMitral.Navigator;

// The result: which of the nine outcomes the record and the answers lead to, why, and what is still to confirm.
public static partial class NavigatorPathway
{
    /// <summary>After TEER or mitral repair, whatever the result, the ventricle is still an HFrEF ventricle (the post-TEER
    /// card's framing, which does not depend on the mechanism).</summary>
    private static PathwayOutcome WithPriorIntervention(ClinicalSnapshot s, PathwayOutcome outcome) =>
        s.PriorTeerOrRepair is { } p
            ? outcome with
            {
                Notes = [.. outcome.Notes, $"Prior {ProcedureWord(p)} ({p.DateText}, {p.Source}): it treated the leak, not the ventricle; the heart-failure substrate is still evaluated as before.",
                    Clinical.Evidence.ProceduralSuccess],
                ContentSlugs = [.. outcome.ContentSlugs, "why-teer-does-not-fix-the-ventricle"],
            }
            : outcome;

    /// <summary>Decision 30: in the chronic results on a heart-failure substrate, the perioperative question, as the
    /// perioperative page and card ask it.</summary>
    private static PathwayOutcome WithPerioperative(PathwayOutcome outcome) =>
        outcome.Result is PathwayResult.CoaptLikeReferToHeartValveTeam or PathwayResult.OptimiseGdmtFirst or PathwayResult.OutsideCoaptLikeRange
            or PathwayResult.NoPersistentSymptoms
            ? outcome with
            {
                Notes = [.. outcome.Notes, $"If other surgery is planned: {Clinical.Evidence.PeriopQuestion} Its risk follows the heart-failure substrate, not the MR grade alone."],
                ContentSlugs = [.. outcome.ContentSlugs, "perioperative-secondary-mr"],
            }
            : outcome;

    private static PathwayOutcome Decide(ClinicalSnapshot s, NavigatorAnswers a, EffectiveMech mech)
    {
        if (Acute(s, a))
        {
            return Outcome(PathwayResult.AcuteSevereMrCriticallyIll,
                $"This is a different scenario from chronic secondary MR, and the COAPT-like pathway does not advise on it. {Clinical.Evidence.Acute} " +
                "Surgery or TEER is a Heart Valve Team and shock-team decision at the bedside.",
                a.AcuteSevereMrCriticallyIll == true
                    ? [$"Acute severe MR in a critically ill patient, {a.Provenance}"]
                    : [.. s.AcuteSetting.Select(x => $"{x.Name} on record ({x.Source})")],
                [], ["acute-severe-mr-critically-ill"], Evidence.Acute);
        }
        if (mech.Kind == MechanismKind.Primary)
        {
            return Outcome(PathwayResult.PrimaryMr,
                "The MR is primary: the valve apparatus itself is diseased. Primary MR follows a different pathway from secondary MR, and the " +
                $"secondary-MR considerations here do not apply. {Clinical.Evidence.SurgeryPrimary} The Heart Valve Team weighs the options.",
                [mech.Text], [], ["secondary-mr-causes-and-mechanisms", "teer-procedure"], Evidence.Mechanism);
        }

        var needs = new List<string>();
        var significant = Criteria.SignificantMr(s, current: true);
        if (s.Mr is { IsSignificant: false, IsStale: true } old)
        {
            // A mild grade from long ago says little about the valve now.
            needs.Add($"MR severity: latest assessment ({old.Label}) is from {old.DateText}, older than {s.StaleAfterMonths} months");
        }
        else if (s.Mr is { IsSignificant: false } mild && significant.Verdict == Clinical.Verdict.NotMet)
        {
            return Outcome(PathwayResult.MrNotSignificant,
                $"The secondary-MR intervention pathway starts at {Thresholds.SignificantMrText} MR. Treat the heart failure, and reassess " +
                "with echo if symptoms or findings change.",
                [$"MR {mild.Label} on {mild.DateText} ({mild.Source})"], [], ["secondary-mr-causes-and-mechanisms", "gdmt-before-intervention"], Evidence.Severity);
        }
        else if (!significant.IsMet)
        {
            needs.Add($"MR severity: {significant.Reason}");
        }
        if (mech.Kind is MechanismKind.Unknown or MechanismKind.Conflicting)
        {
            needs.Add($"MR mechanism: {s.Mechanism.Basis}; answer the mechanism question");
        }

        var lvef = s.CurrentLvef;
        var preservedEf = lvef is not null && Interval.Judge(lvef, Interval.Above(Thresholds.LvefHigh)) == Clinical.Verdict.Met;
        var atrial = mech.Kind == MechanismKind.Secondary && mech.Subtype == "atrial"
            && Criteria.ReducedEf(s).Verdict == Clinical.Verdict.NotMet;
        if (needs.Count == 0 && (preservedEf || atrial))
        {
            List<string> because = [significant.Reason, mech.Text];
            if (lvef is not null)
            {
                because.Add($"LVEF {lvef.Display} ({lvef.DateText}, {lvef.Source}){(preservedEf ? $", above the COAPT-like range {Thresholds.LvefWindowText}" : "")}");
            }
            return Outcome(PathwayResult.AtrialOrPreservedEfSecondaryMr,
                "In atrial or preserved-EF secondary MR the evidence for TEER is limited: rhythm control and heart-failure treatment come first, " +
                "and the Heart Valve Team may still consider intervention.",
                because, [], ["atrial-and-preserved-ef-secondary-mr", "secondary-mr-causes-and-mechanisms"], Evidence.Preserved);
        }

        var outside = Criteria.OutsideWindow(s, out _);
        var substrate = GdmtGap.HfrefSubstrate(s);
        var gaps = GdmtGaps(s, a);
        if (needs.Count == 0 && substrate.IsMet && gaps.Count > 0)
        {
            return Outcome(PathwayResult.OptimiseGdmtFirst,
                "GDMT optimisation comes first. GDMT can reduce secondary MR and sometimes removes the need for intervention; the COAPT-like " +
                "profile applies to patients on maximally tolerated GDMT. Reassess symptoms and the echo once GDMT is optimised.",
                [significant.Reason, mech.Text, substrate.Reason, .. gaps.Select(g => $"GDMT: {g}")],
                [], ["gdmt-before-intervention", "coapt-and-mitra-fr"], Evidence.Gdmt,
                outside.Select(o => $"Also outside the COAPT-like range: {o.Words}").ToList());
        }
        if (needs.Count == 0 && outside.Count > 0)
        {
            return Outcome(PathwayResult.OutsideCoaptLikeRange,
                $"{Capitalise(JoinAnd(outside.Select(o => o.Words).ToList()))}. The benefit of TEER is less established outside the range: COAPT enrolled " +
                $"{Clinical.Evidence.CoaptWindow}. {Clinical.Evidence.MitraFr} Advanced heart-failure therapies may be relevant, and the Heart Valve Team may " +
                "still consider intervention.",
                [significant.Reason, mech.Text, .. outside.Select(o => $"{o.Words} ({o.Value.DateText}, {o.Value.Source})")], [], ["coapt-and-mitra-fr", "secondary-mr-causes-and-mechanisms"],
                Evidence.TrialContrast);
        }
        needs.AddRange(WindowCriteria(s).Where(c => !c.IsMet).Select(c => $"{c.Name}: {c.Reason}{StaleNote(s, c.Name)}"));
        var unconfirmed = Enum.GetValues<GdmtClass>().Where(p => State(s, a, p) == PillarState.Unconfirmed).Select(GdmtStatus.Name).ToList();
        if (unconfirmed.Count > 0)
        {
            needs.Add($"GDMT: confirm maximally tolerated dose or contraindication for {JoinAnd(unconfirmed)}");
        }
        var (nyha, nyhaText) = EffectiveNyha(s, a);
        if (nyha is null)
        {
            needs.Add("Symptoms: the NYHA class now");
        }
        if (a.SymptomsPersistDespiteGdmt is null)
        {
            needs.Add("Symptoms: whether they persist despite GDMT");
        }
        if (needs.Count > 0)
        {
            return Outcome(PathwayResult.NotEnoughInformation,
                "What the pathway needs is missing, out of date or not answered yet. A current transthoracic echo with LVEF, LVESD, PASP and the " +
                "MR mechanism, and the answers the record cannot give, would allow it to be judged.",
                needs, [], ["secondary-mr-causes-and-mechanisms", "coapt-and-mitra-fr"], Evidence.Coapt(s));
        }
        if (nyha == NyhaAnswer.I || a.SymptomsPersistDespiteGdmt == false)
        {
            return Outcome(PathwayResult.NoPersistentSymptoms,
                $"The COAPT-like profile is for patients who remain symptomatic ({Thresholds.CoaptNyhaText}) on maximally tolerated GDMT. Continue " +
                "GDMT and reassess if symptoms return or the echo changes.",
                [significant.Reason, mech.Text, nyhaText, $"Symptoms persist despite GDMT: {Answered(a, Q.SymptomsPersist)}"], [],
                ["gdmt-before-intervention", "coapt-and-mitra-fr"], Evidence.Symptoms);
        }
        return Coapt(s, a, significant, mech, nyhaText);
    }

    private static PathwayOutcome Coapt(ClinicalSnapshot s, NavigatorAnswers a, Criterion significant, EffectiveMech mech, string nyhaText)
    {
        var because = new List<string> { significant.Reason, mech.Text };
        because.AddRange(WindowCriteria(s).Select(c => $"{c.Reason}, {c.Name} met{SourceOf(s, c.Name)}"));
        because.Add($"GDMT: {string.Join("; ", Enum.GetValues<GdmtClass>().Select(p => $"{GdmtStatus.Name(p)} {Q.Get(Q.PillarLinkId(p)).AnswerDisplay(a)!.ToLowerInvariant()}"))} ({a.Provenance})");
        because.Add($"Symptoms persist despite GDMT, {nyhaText}");
        var confirm = new List<string>();
        var notes = new List<string>();
        switch (a.Crt)
        {
            case null or CrtAnswer.Unknown: confirm.Add("Cardiac resynchronisation therapy, where indicated"); break;
        }
        switch (a.HfHospitalisationOrRaisedNp)
        {
            case null or YesNoUnknown.Unknown: confirm.Add("HF hospitalisation in the past year or raised natriuretic peptide"); break;
            case YesNoUnknown.No: notes.Add($"No HF hospitalisation in the past year and no raised natriuretic peptide ({a.Provenance}): COAPT enrolled patients with one or the other."); break;
            default: because.Add($"HF hospitalisation in the past year or raised natriuretic peptide ({a.Provenance})"); break;
        }
        switch (a.TeeAnatomy)
        {
            case null or TeeAnswer.NotDone: confirm.Add("Valve anatomy suitable for TEER on transoesophageal echo"); break;
            case TeeAnswer.NotSuitable: notes.Add($"Valve anatomy not suitable for TEER on TEE ({a.Provenance}): the team weighs surgery and other options."); break;
            default: because.Add($"Valve anatomy suitable for TEER on TEE ({a.Provenance})"); break;
        }
        switch (a.SurgicalRisk)
        {
            case null or SurgicalRiskAnswer.NotAssessed: confirm.Add("Surgical risk; in secondary MR surgery is weighed mainly when CABG is planned"); break;
            case SurgicalRiskAnswer.Low or SurgicalRiskAnswer.Intermediate:
                notes.Add($"Surgical risk {Q.Get(Q.SurgicalRisk).AnswerDisplay(a)!.ToLowerInvariant()} ({a.Provenance}): {Clinical.Evidence.SurgerySecondary}");
                break;
            default: because.Add($"Surgical risk {Q.Get(Q.SurgicalRisk).AnswerDisplay(a)!.ToLowerInvariant()} ({a.Provenance})"); break;
        }
        switch (a.RvFunction)
        {
            case null or RvFunctionAnswer.Unknown: confirm.Add("Right-ventricular function"); break;
            case RvFunctionAnswer.Reduced: notes.Add($"Reduced right-ventricular function ({a.Provenance}): the team weighs it."); break;
            default: because.Add($"Normal right-ventricular function ({a.Provenance})"); break;
        }
        notes.Add(Clinical.Evidence.ProceduralSuccess);
        return Outcome(PathwayResult.CoaptLikeReferToHeartValveTeam,
            "The recorded values and the answers fall inside the COAPT trial window; this is not an indication: consider referral to the Heart " +
            "Valve Team, which confirms anatomy and surgical risk and decides with the patient whether transcatheter edge-to-edge repair (TEER) is right.",
            because, confirm, ["coapt-and-mitra-fr", "teer-procedure", "gdmt-before-intervention"], Evidence.Coapt(s), notes);
    }

    private static string SourceOf(ClinicalSnapshot s, string criterionName) =>
        (criterionName.Split(' ')[0] switch { "LVEF" => s.CurrentLvef, "LVESD" => s.CurrentLvesd, _ => s.CurrentPasp }) is { } m ? $" ({m.Source})" : "";

    private static string StaleNote(ClinicalSnapshot s, string criterionName) =>
        (criterionName.Split(' ')[0] switch { "LVEF" => s.Lvef, "LVESD" => s.Lvesd, _ => s.Pasp }) is { IsStale: true } m
            ? $" (latest {m.Display} from {m.DateText} is older than {s.StaleAfterMonths} months)" : "";

    private static PathwayOutcome Outcome(PathwayResult result, string wording, List<string> because,
        List<string> confirm, string[] slugs, string evidence, List<string>? notes = null) =>
        new(result, Titles[result], wording, because.Select(Capitalise).ToList(), confirm, slugs, evidence, notes ?? []);
}
