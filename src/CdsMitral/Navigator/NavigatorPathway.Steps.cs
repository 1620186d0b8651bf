using CdsMitral.Clinical;
using CdsMitral.Content;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;
using Q = CdsMitral.Navigator.NavigatorQuestions;

namespace CdsMitral.Navigator;

// The eight steps, each with the values the record fills in, what it asks, and what it finds.
public static partial class NavigatorPathway
{
    private static readonly ContentCatalog Pages = ContentCatalog.Embedded;

    private static PathwayStep MakeStep(string id, string title, IReadOnlyList<PrefilledValue> values, string asks,
        IReadOnlyList<StepQuestion> questions, string finding, string slug, string evidence) =>
        new(id, title, values, asks, questions, finding, slug, Pages.Get(slug).Title, evidence);

    private static StepQuestion Ask(string linkId, NavigatorAnswers a, string? suggested = null, string? because = null)
    {
        var q = Q.Get(linkId);
        return new StepQuestion(q, q.AnswerCode(a), suggested, because);
    }

    private static PathwayStep SettingStep(ClinicalSnapshot s, NavigatorAnswers a)
    {
        var signs = s.AcuteSetting.Select(x => new PrefilledValue("Acute setting", x.Name, "", x.Source, ValueStatus.Current)).ToList();
        var because = signs.Count == 0 ? null : $"{string.Join(", ", s.AcuteSetting.Select(x => $"{x.Name} ({x.Source})"))} on record";
        return MakeStep(StepIds.Setting, "Setting: chronic or acute", signs,
            signs.Count == 0
                ? "The record shows no cardiogenic shock and no circulatory support in progress; only you can say whether the patient is critically ill. Acute severe MR in shock or on mechanical support is a different scenario from chronic secondary MR."
                : "The record shows the acute setting. Acute severe MR in shock or on mechanical support is a different scenario from chronic secondary MR; answer no only if that is no longer so.",
            [Ask(Q.Acute, a, signs.Count == 0 ? null : "yes", because)],
            (a.AcuteSevereMrCriticallyIll, signs.Count > 0) switch
            {
                (true, _) => $"Acute severe MR in a critically ill patient ({a.Provenance}): the critical-care content applies, not the COAPT-like pathway.",
                (false, _) => $"Chronic setting ({a.Provenance}).",
                (null, true) => $"The acute setting, from the record ({because}): the critical-care content applies, not the COAPT-like pathway.",
                _ => "Not answered yet: the pathway assumes the chronic setting the cards address.",
            },
            "acute-severe-mr-critically-ill", Evidence.Acute);
    }

    private static PathwayStep MechanismStep(ClinicalSnapshot s, NavigatorAnswers a, EffectiveMech mech)
    {
        var m = s.Mechanism;
        var status = m.Kind switch
        {
            MechanismKind.Unknown => ValueStatus.Missing,
            MechanismKind.Conflicting => ValueStatus.Conflicting,
            MechanismKind.Secondary when m.Presumed => ValueStatus.Presumed,
            _ => ValueStatus.Current,
        };
        var values = new List<PrefilledValue>
        {
            new("MR mechanism", m.Label, s.Mr is { } mr && m.Sources.Contains(mr.Source) ? mr.DateText : "", Sources(m.Sources), status, m.Basis),
        };
        values.AddRange(s.HfrefConditions.Concat(s.Cardiomyopathies).Concat(s.AtrialFibrillation).Distinct()
            .Select(c => new PrefilledValue("Diagnosis", c.Name, "", c.Source, ValueStatus.Current)));
        if (s.PriorTeerOrRepair is { } p)
        {
            values.Add(new PrefilledValue("Prior mitral intervention", p.Name, p.Date is null ? "" : p.DateText, p.Source, ValueStatus.Current));
        }
        var definite = RecordIsDefinite(s);
        return MakeStep(StepIds.Mechanism, "MR mechanism", values,
            definite
                ? "The mechanism is recorded; nothing to ask."
                : "The mechanism is not recorded, only presumed, or recorded inconsistently: say what the imaging shows. Rheumatic MR counts as primary.",
            definite ? [] : [Ask(Q.Mechanism, a)],
            mech.Kind switch
            {
                MechanismKind.Primary => $"{mech.Text}: primary MR follows a different pathway.",
                MechanismKind.Secondary => $"{Capitalise(mech.Text)}.",
                _ => $"{mech.Text}. The pathway cannot go on until the mechanism is known.",
            },
            "secondary-mr-causes-and-mechanisms", Evidence.Mechanism);
    }

    private static PathwayStep SeverityStep(ClinicalSnapshot s)
    {
        var values = new List<PrefilledValue>();
        values.Add(s.Mr is { } mr
            ? new("MR severity", mr.Label, mr.DateText, mr.Source,
                mr.IsConflicting ? ValueStatus.Conflicting : mr.IsStale ? ValueStatus.Stale : ValueStatus.Current,
                mr.IsConflicting ? $"other grades on the same date: {string.Join(", ", mr.ConflictsWith!)}" : null)
            : Missing("MR severity", s));
        values.AddRange(Context(s.Eroa, s.RegurgitantVolume, s.RegurgitantFraction));
        var significant = Criteria.SignificantMr(s, current: true);
        return MakeStep(StepIds.Severity, "MR severity", values,
            "Nothing to ask: the grade comes from the echo. EROA, regurgitant volume and fraction are context, not criteria.", [],
            $"{Capitalise(significant.Reason)}: {Judged(significant.Verdict, "significant MR (moderate-severe or severe)")}.",
            "coapt-and-mitra-fr", Evidence.Severity);
    }

    private static PathwayStep GdmtStep(ClinicalSnapshot s, NavigatorAnswers a)
    {
        var values = new List<PrefilledValue>();
        foreach (var pillar in Enum.GetValues<GdmtClass>())
        {
            var uses = s.Gdmt.ByClass.TryGetValue(pillar, out var u) ? u : [];
            values.AddRange(uses.Count == 0
                ? [new PrefilledValue(Capitalise(GdmtStatus.Name(pillar)), $"none {(s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "")}found in the EHR's answer", "", "", ValueStatus.Missing)]
                : uses.Select(x => new PrefilledValue(Capitalise(GdmtStatus.Name(pillar)), x.Name, "", x.Source, ValueStatus.Current, "active on record; dose not judged")));
        }
        values.AddRange(s.Gdmt.AmbiguousBetaBlocker.Select(x => new PrefilledValue("Beta-blocker salt", x.Name, "", x.Source, ValueStatus.NotUsable,
            "metoprolol without its salt: the succinate is an HFrEF beta-blocker, the tartrate is not")));
        values.AddRange(s.Gdmt.NotOnBoard.Select(x => new PrefilledValue("Not counted as taken", x.Name, "", x.Source, ValueStatus.NotUsable, x.Note)));
        values.AddRange(s.Gdmt.Unrecognised.Select(x => new PrefilledValue("Not recognised", x.Name, "", x.Source, ValueStatus.NotUsable, x.Note)));
        var substrate = GdmtGap.HfrefSubstrate(s);
        var states = Enum.GetValues<GdmtClass>().Select(p => (p, State(s, a, p))).ToList();
        var gaps = GdmtGaps(s, a);
        var finding = substrate.Verdict != Clinical.Verdict.Met
            ? $"HFrEF GDMT is judged on an HFrEF-like substrate only: {substrate.Reason}."
            : gaps.Count > 0 ? $"GDMT optimisation comes first: {JoinAnd(gaps)}."
            : states.Any(x => x.Item2 == PillarState.Unconfirmed) ? $"Confirm the dose of each class on record: {JoinAnd(states.Where(x => x.Item2 == PillarState.Unconfirmed).Select(x => GdmtStatus.Name(x.p)).ToList())}."
            : "All four classes at maximally tolerated doses or contraindicated, as attested.";
        return MakeStep(StepIds.Gdmt, "GDMT by pillar, and CRT", values,
            "The record shows which drugs are on board, not their doses, intolerance or contraindications. For each class, say where the patient stands; and whether CRT is indicated.",
            [Ask(Q.BetaBlocker, a), Ask(Q.RaasInhibitor, a), Ask(Q.Mra, a), Ask(Q.Sglt2Inhibitor, a), Ask(Q.Crt, a)],
            finding, "gdmt-before-intervention", Evidence.Gdmt);
    }

    private static PathwayStep SymptomsStep(ClinicalSnapshot s, NavigatorAnswers a)
    {
        var recorded = s.NyhaClass;
        var values = new List<PrefilledValue>
        {
            recorded is { } n
                ? new("NYHA class", Roman(n.Value), n.DateText, n.Source, n.IsStale ? ValueStatus.Stale : ValueStatus.Current)
                : new("NYHA class", "none found in the EHR's answer", "", "", ValueStatus.Missing),
        };
        var suggested = recorded is { IsCurrent: true } current ? Roman(current.Value) : null;
        var (nyha, _) = EffectiveNyha(s, a);
        return MakeStep(StepIds.Symptoms, "Symptoms despite GDMT", values,
            $"The record may hold a NYHA class; only you can say whether symptoms persist on maximally tolerated GDMT. {Clinical.Evidence.CoaptNyha}",
            [Ask(Q.Nyha, a, suggested, suggested is null ? null : $"NYHA {suggested} on record ({recorded!.DateText}, {recorded.Source})"), Ask(Q.SymptomsPersist, a)],
            SymptomFinding(a, nyha), "coapt-and-mitra-fr", Evidence.Symptoms);
    }

    private static string SymptomFinding(NavigatorAnswers a, NyhaAnswer? nyha) =>
        nyha is null || a.SymptomsPersistDespiteGdmt is null ? "Not answered yet."
        : nyha == NyhaAnswer.I || a.SymptomsPersistDespiteGdmt == false ? "No persistent symptoms on GDMT."
        : $"Symptoms persist despite GDMT, NYHA {nyha} ({a.Provenance}).";

    private static PathwayStep WindowStep(ClinicalSnapshot s)
    {
        var values = new List<PrefilledValue>();
        foreach (var (name, latest, target) in new[]
                 {
                     ("LVEF", s.Lvef, Thresholds.LvefWindowText),
                     ("LVESD", s.Lvesd, Thresholds.LvesdWindowText),
                     ("PASP", s.Pasp, Thresholds.PaspWindowText),
                 })
        {
            values.Add(latest is { } m
                ? new(name, m.Display, m.DateText, m.Source, m.IsStale ? ValueStatus.Stale : ValueStatus.Current, $"COAPT-like range {target}")
                : Missing(name, s));
        }
        var criteria = WindowCriteria(s);
        return MakeStep(StepIds.Window, "LVEF, LVESD and PASP against the COAPT-like window", values,
            $"Nothing to ask: the values come from the echo. The window is LVEF {Thresholds.LvefWindowText}, LVESD {Thresholds.LvesdWindowText}, PASP {Thresholds.PaspWindowText}, all current.",
            [], string.Join(" ", criteria.Select(c => $"{Capitalise(c.Reason)}: {Judged(c.Verdict, c.Name)}.")),
            "coapt-and-mitra-fr", Evidence.Coapt(s));
    }

    private static Criterion[] WindowCriteria(ClinicalSnapshot s) =>
        [Criteria.LvefInWindow(s), Criteria.LvesdInWindow(s), Criteria.PaspInWindow(s)];

    private static PathwayStep BeyondRecordStep(NavigatorAnswers a) =>
        MakeStep(StepIds.BeyondRecord, "What the record cannot show", [],
            "Recent heart-failure events, valve anatomy on TEE, surgical risk and right-ventricular function are rarely coded. Answer what you know; the Heart Valve Team confirms the rest.",
            [Ask(Q.HfEvent, a), Ask(Q.TeeAnatomy, a), Ask(Q.SurgicalRisk, a), Ask(Q.RvFunction, a)],
            $"HF hospitalisation or raised natriuretic peptide: {Answered(a, Q.HfEvent)}. TEE anatomy: {Answered(a, Q.TeeAnatomy)}. " +
            $"Surgical risk: {Answered(a, Q.SurgicalRisk)}. RV function: {Answered(a, Q.RvFunction)}.",
            "teer-procedure", Evidence.HeartTeam);

    private static PathwayStep ContextStep(ClinicalSnapshot s)
    {
        var values = Context(s.Eroa, s.Lvedv).ToList();
        return MakeStep(StepIds.Context, "Proportionate or disproportionate MR (context only)", values,
            "Nothing to ask. Whether the MR is proportionate to the LV size is shown as context, never as a gate.", [],
            values.Count == 0
                ? "EROA and LVEDV are not both on record; nothing to show."
                : "Context only, not a criterion: whether MR is proportionate to LV size may bear on the response to MR reduction; later analyses did not firmly confirm it.",
            "coapt-and-mitra-fr", Evidence.Proportionate);
    }

    private static IEnumerable<PrefilledValue> Context(params Measurement?[] measurements) =>
        measurements.OfType<Measurement>().Select(m =>
            new PrefilledValue(m.Name, m.Display, m.DateText, m.Source, m.IsStale ? ValueStatus.Stale : ValueStatus.ContextOnly, "context only, not a criterion"));

    private static PrefilledValue Missing(string name, ClinicalSnapshot s)
    {
        var unusable = s.Findings.Where(f => f.Measure == name).ToList();
        return unusable.Count == 0
            ? new(name, "none found in the EHR's answer", "", "", ValueStatus.Missing)
            : new(name, "none usable", "", string.Join(", ", unusable.Select(f => f.Source)), ValueStatus.NotUsable,
                string.Join("; ", unusable.Select(f => $"{f.Source} {f.Problem}")));
    }

    private static string Sources(IReadOnlyList<string> sources) => string.Join(", ", sources);

    private static string Judged(Verdict v, string name) => v switch
    {
        Clinical.Verdict.Met => $"{name} met",
        Clinical.Verdict.NotMet => $"{name} not met",
        _ => $"{name} cannot be judged",
    };
}
