using CdsMitral.Clinical;
using CdsMitral.Content;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;
using Q = CdsMitral.Navigator.NavigatorQuestions;

namespace CdsMitral.Navigator;

/// <summary>The ids of the pathway's steps, in order.</summary>
public static class StepIds
{
    public const string Setting = "setting";
    public const string Mechanism = "mechanism";
    public const string Severity = "severity";
    public const string Gdmt = "gdmt";
    public const string Symptoms = "symptoms";
    public const string Window = "coapt-window";
    public const string BeyondRecord = "beyond-the-record";
    public const string Context = "context";

    public static IReadOnlyList<string> All { get; } = [Setting, Mechanism, Severity, Gdmt, Symptoms, Window, BeyondRecord, Context];
}

/// <summary>
/// The Secondary MR Intervention Navigator's pathway: the snapshot the cards read, judged by the same criteria and
/// thresholds (<see cref="Criteria"/>, <see cref="Thresholds"/>), with the clinician's attested answers as further
/// inputs, each labelled with who gave it and when. Pure: no HTTP, no clock.
/// </summary>
public static class NavigatorPathway
{
    /// <summary>The evidence each step and result names: the statements the cards and pages make (<see cref="Clinical.Evidence"/>).</summary>
    internal static class Evidence
    {
        public static string Coapt(ClinicalSnapshot s) => s.Mr is { Grade: >= 4 }
            ? $"{Clinical.Evidence.TeerGradesSevere} {Clinical.Evidence.Coapt5Year}"
            : $"{Clinical.Evidence.ModerateSevere} {Clinical.Evidence.Coapt5Year} {Clinical.Evidence.ReshapeHf2}";

        public const string Gdmt = Clinical.Evidence.GdmtFirst;
        public const string TrialContrast = Clinical.Evidence.TrialContrast;
        public const string Proportionate = Clinical.Evidence.Proportionate;
        public const string Acute = Clinical.Evidence.AcuteBasis;
        public const string Mechanism = Clinical.Evidence.Mechanism;
        public const string Severity = Clinical.Evidence.Severity;
        public const string Symptoms = Clinical.Evidence.Symptoms;
        public const string HeartTeam = Clinical.Evidence.HeartTeam;
        public const string Preserved = Clinical.Evidence.TrialPopulations;
    }

    private static readonly ContentCatalog Pages = ContentCatalog.Embedded;

    private enum PillarState { Confirmed, Gap, Unconfirmed }

    public static PathwayView Evaluate(ClinicalSnapshot snapshot, NavigatorAnswers answers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(answers);
        var s = snapshot;
        var mech = EffectiveMechanism(s, answers);
        var steps = new List<PathwayStep>
        {
            SettingStep(s, answers),
            MechanismStep(s, answers, mech),
            SeverityStep(s),
            GdmtStep(s, answers),
            SymptomsStep(s, answers),
            WindowStep(s),
            BeyondRecordStep(answers),
            ContextStep(s),
        };
        if (Acute(s, answers))
        {
            // Decision 28: the acute branch goes straight to its result; the chronic GDMT, symptom and TEE steps do not apply.
            steps = [steps[0]];
        }
        // A mechanism answer counts only where the record leaves the mechanism open (the question is not shown otherwise).
        var attested = Q.All
            .Where(q => q.AnswerCode(answers) is not null && (q.LinkId != Q.Mechanism || !RecordIsDefinite(s)))
            .Select(q => new AttestedAnswer(q.LinkId, q.Text, q.AnswerCode(answers)!, q.AnswerDisplay(answers)!, answers.Provenance))
            .ToList();
        var notes = s.Findings.Select(f => $"{f.Measure} {f.Source} {f.Problem}")
            .Concat(s.Unavailable.Select(u => $"{Capitalise(u)} could not be retrieved; what depends on them may be incomplete"))
            .Concat(s.Notes)
            .ToList();
        return new PathwayView(now, answers, steps, attested, WithPerioperative(WithPriorIntervention(s, Decide(s, answers, mech))), notes);
    }

    // ---- the mechanism: the record when it is definite, else the clinician's answer, else the presumption ----

    private sealed record EffectiveMech(MechanismKind Kind, string? Subtype, bool Attested, string Text);

    private static bool RecordIsDefinite(ClinicalSnapshot s) =>
        s.Mechanism.Kind == MechanismKind.Primary || (s.Mechanism.Kind == MechanismKind.Secondary && !s.Mechanism.Presumed);

    private static EffectiveMech EffectiveMechanism(ClinicalSnapshot s, NavigatorAnswers a)
    {
        if (RecordIsDefinite(s))
        {
            return new(s.Mechanism.Kind, s.Mechanism.Subtype, false, $"MR {s.Mechanism.Label}, {s.Mechanism.Basis}");
        }
        if (a.Mechanism is { } answer)
        {
            var display = Q.Get(Q.Mechanism).AnswerDisplay(a)!;
            var (kind, subtype) = answer switch
            {
                MechanismAnswer.Primary => (MechanismKind.Primary, (string?)null),
                MechanismAnswer.Rheumatic => (MechanismKind.Primary, "rheumatic"),
                MechanismAnswer.SecondaryVentricular => (MechanismKind.Secondary, "ventricular"),
                _ => (MechanismKind.Secondary, "atrial"),
            };
            return new(kind, subtype, true, $"MR mechanism {display.ToLowerInvariant()}, {a.Provenance} (record: {s.Mechanism.Basis})");
        }
        return new(s.Mechanism.Kind, s.Mechanism.Subtype, false, Capitalise(s.Mechanism.Basis));
    }

    // ---- the steps ----

    private static PathwayStep MakeStep(string id, string title, IReadOnlyList<PrefilledValue> values, string asks,
        IReadOnlyList<StepQuestion> questions, string finding, string slug, string evidence) =>
        new(id, title, values, asks, questions, finding, slug, Pages.Get(slug).Title, evidence);

    private static StepQuestion Ask(string linkId, NavigatorAnswers a, string? suggested = null, string? because = null)
    {
        var q = Q.Get(linkId);
        return new StepQuestion(q, q.AnswerCode(a), suggested, because);
    }

    private static string Answered(NavigatorAnswers a, string linkId) =>
        Q.Get(linkId).AnswerDisplay(a) is { } d ? $"{d} ({a.Provenance})" : "not answered yet";

    /// <summary>Decision 19: a record that shows shock or circulatory support in progress is the acute setting, as the cards
    /// treat it, unless the clinician attests otherwise.</summary>
    private static bool Acute(ClinicalSnapshot s, NavigatorAnswers a) => a.AcuteSevereMrCriticallyIll ?? s.AcuteSetting.Count > 0;

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

    private static PillarState State(ClinicalSnapshot s, NavigatorAnswers a, GdmtClass pillar) => a.Pillar(pillar) switch
    {
        PillarAnswer.MaximallyTolerated or PillarAnswer.ContraindicatedOrNotTolerated => PillarState.Confirmed,
        PillarAnswer.NotYetOptimised => PillarState.Gap,
        _ => s.Gdmt.Missing.Contains(pillar) ? PillarState.Gap : PillarState.Unconfirmed,
    };

    /// <summary>Each pillar not yet optimised (attested) or with no recognised drug on record and no answer, and CRT
    /// indicated but not in place, in words with their provenance.</summary>
    private static List<string> GdmtGaps(ClinicalSnapshot s, NavigatorAnswers a)
    {
        var gaps = new List<string>();
        foreach (var pillar in Enum.GetValues<GdmtClass>())
        {
            if (State(s, a, pillar) != PillarState.Gap)
            {
                continue;
            }
            gaps.Add(a.Pillar(pillar) == PillarAnswer.NotYetOptimised
                ? $"{GdmtStatus.Name(pillar)} not yet optimised ({a.Provenance})"
                : $"no {(s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "")}{GdmtStatus.Name(pillar)} on record");
        }
        if (a.Crt == CrtAnswer.IndicatedNotInPlace)
        {
            gaps.Add($"CRT indicated, not in place ({a.Provenance})");
        }
        return gaps;
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
            "The record may hold a NYHA class; only you can say whether symptoms persist on maximally tolerated GDMT. COAPT enrolled NYHA II to ambulatory IV.",
            [Ask(Q.Nyha, a, suggested, suggested is null ? null : $"NYHA {suggested} on record ({recorded!.DateText}, {recorded.Source})"), Ask(Q.SymptomsPersist, a)],
            SymptomFinding(a, nyha), "coapt-and-mitra-fr", Evidence.Symptoms);
    }

    private static string Roman(decimal c) => c switch { 1 => "I", 2 => "II", 3 => "III", _ => "IV" };

    /// <summary>The clinician's NYHA class, else a current one on record, with where it came from.</summary>
    private static (NyhaAnswer? Class, string Text) EffectiveNyha(ClinicalSnapshot s, NavigatorAnswers a) =>
        a.Nyha is { } n ? (n, $"NYHA {n} ({a.Provenance})")
        : s.NyhaClass is { IsCurrent: true } r ? ((NyhaAnswer)(int)r.Value, $"NYHA {Roman(r.Value)} ({r.DateText}, {r.Source})")
        : (null, "no NYHA class given or current on record");

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

    // ---- the result ----

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
                "The secondary-MR intervention pathway starts at moderate-severe (3+) or severe (4+) MR. Treat the heart failure, and reassess " +
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
                "The COAPT-like profile is for patients who remain symptomatic (NYHA II to ambulatory IV) on maximally tolerated GDMT. Continue " +
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

    /// <summary>Each result's title, as the result page, the referral summary and the Questionnaire's answer options show it.</summary>
    private static readonly Dictionary<PathwayResult, string> Titles = new()
    {
        [PathwayResult.AcuteSevereMrCriticallyIll] = "Acute severe MR in a critically ill patient",
        [PathwayResult.PrimaryMr] = "Primary MR: a different pathway",
        [PathwayResult.MrNotSignificant] = "MR is not moderate-severe or severe",
        [PathwayResult.AtrialOrPreservedEfSecondaryMr] = "Atrial or preserved-EF secondary MR",
        [PathwayResult.OptimiseGdmtFirst] = "Optimise GDMT first and reassess",
        [PathwayResult.OutsideCoaptLikeRange] = "Outside the COAPT-like range",
        [PathwayResult.NotEnoughInformation] = "Not enough information to place the patient on the pathway",
        [PathwayResult.NoPersistentSymptoms] = "No persistent symptoms on GDMT",
        [PathwayResult.CoaptLikeReferToHeartValveTeam] = "COAPT-like profile: refer to the Heart Valve Team",
    };

    public static string TitleOf(PathwayResult result) => Titles[result];

    /// <summary>The page for the patient that fits each result (decision 29 of 2026-12-07), all in cds-cards/.</summary>
    public static string PatientPageOf(PathwayResult result) => result switch
    {
        PathwayResult.CoaptLikeReferToHeartValveTeam or PathwayResult.OutsideCoaptLikeRange => "secondary-mr-treatment-for-patients",
        PathwayResult.OptimiseGdmtFirst or PathwayResult.NoPersistentSymptoms => "patient-gdmt-first",
        PathwayResult.PrimaryMr => "patient-primary-mr",
        PathwayResult.AtrialOrPreservedEfSecondaryMr => "patient-atrial-mr",
        PathwayResult.AcuteSevereMrCriticallyIll => "patient-acute-mr",
        PathwayResult.MrNotSignificant => "patient-mr-not-significant",
        _ => "mitral-regurgitation-for-patients",
    };

    /// <summary>A stable code per result, for the QuestionnaireResponse and the audit: "coapt-like-refer-to-heart-valve-team".</summary>
    public static string CodeOf(PathwayResult result) =>
        string.Concat(result.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? $"-{char.ToLowerInvariant(c)}" : $"{char.ToLowerInvariant(c)}"));

    private static PathwayOutcome Outcome(PathwayResult result, string wording, List<string> because,
        List<string> confirm, string[] slugs, string evidence, List<string>? notes = null) =>
        new(result, Titles[result], wording, because.Select(Capitalise).ToList(), confirm, slugs, evidence, notes ?? []);
}
