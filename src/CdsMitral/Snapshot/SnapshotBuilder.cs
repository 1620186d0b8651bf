using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Snapshot;

/// <summary>
/// Turns the resources gathered for a patient into one value per measure, as clinical-logic.md describes:
/// the most recent final/amended/corrected value (preliminary only if nothing else), converted to one unit,
/// checked for plausibility and age, and always carrying the resource id and date it came from.
/// Pure: no clock, no I/O.
/// </summary>
public sealed class SnapshotBuilder(Terminology.Terminology terminology, ClinicalOptions options)
{
    /// <summary>An observation, classified once: which measure its code belongs to, and its date.</summary>
    private readonly record struct Classified(string Key, Observation Obs, DateTimeOffset? Date);
    private static readonly string[] FinalStatuses = ["final", "amended", "corrected"];
    private static readonly string[] ExcludedStatuses = ["entered-in-error", "cancelled"];

    private sealed record MeasureSpec(string Name, string ValueSet, string Unit, decimal? Min, decimal? Max, Func<Quantity, decimal?> Normalise);

    private static readonly MeasureSpec LvefSpec = new("LVEF", Vs.Lvef, "%", 5, 90, NormaliseLvef);
    private static readonly MeasureSpec LvesdSpec = new("LVESD", Vs.Lvesd, "mm", 15, 100, q => UnitIs(q, "mm") ? q.Value : UnitIs(q, "cm") ? q.Value * 10 : null);
    private static readonly MeasureSpec PaspSpec = new("PASP", Vs.Pasp, "mmHg", 10, 150, q => UnitIs(q, "mm[Hg]", "mmHg", "mm Hg") ? q.Value : null);
    private static readonly MeasureSpec EroaSpec = new("EROA", Vs.Eroa, "cm²", null, null, q => UnitIs(q, "cm2", "cm^2", "cm²") ? q.Value : UnitIs(q, "mm2", "mm^2", "mm²") ? q.Value / 100 : null);
    private static readonly MeasureSpec RvolSpec = new("Regurgitant volume", Vs.RegurgitantVolume, "mL", null, null, q => UnitIs(q, "mL", "ml") ? q.Value : null);
    private static readonly MeasureSpec RfSpec = new("Regurgitant fraction", Vs.RegurgitantFraction, "%", null, null, q => UnitIs(q, "%") ? q.Value : null);
    private static readonly MeasureSpec LvedvSpec = new("LVEDV", Vs.Lvedv, "mL", null, null, q => UnitIs(q, "mL", "ml") ? q.Value : null);

    private readonly Terminology.Terminology _t = terminology;

    // Every measure's codes in one table: each observation is looked up once, not once per measure.
    private readonly System.Collections.Frozen.FrozenDictionary<(string System, string Code), string> _measureOf = MeasureTable(terminology);

    private static readonly string[] MeasureValueSets =
        [Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.Eroa, Vs.RegurgitantVolume, Vs.RegurgitantFraction, Vs.Lvedv, Vs.MrAssessment, Vs.NyhaAssessment];

    private static System.Collections.Frozen.FrozenDictionary<(string System, string Code), string> MeasureTable(Terminology.Terminology t)
    {
        var table = new Dictionary<(string, string), string>();
        foreach (var valueSet in MeasureValueSets)
        {
            foreach (var code in t.Codes(valueSet))
            {
                // A code in two measure ValueSets would make one value count as two measures: refuse it at start-up.
                if (!table.TryAdd(code, valueSet) && table[code] != valueSet)
                {
                    throw new InvalidOperationException($"{code.Item1}|{code.Item2} is in both {table[code]} and {valueSet}.");
                }
            }
        }
        return System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(table);
    }

    private string? MeasureOf(CodeableConcept? code)
    {
        foreach (var coding in code?.Coding ?? [])
        {
            if (coding.System is not null && coding.Code is not null && _measureOf.TryGetValue((coding.System, coding.Code), out var valueSet))
            {
                return valueSet;
            }
        }
        return null;
    }

    public ClinicalSnapshot Build(PatientRecord record, DateTimeOffset asOf)
    {
        var findings = new List<DataQualityFinding>();
        var staleBefore = asOf.AddMonths(-options.StaleAfterMonths);
        var resources = OwnResources(record, findings);

        var byMeasure = new Dictionary<string, List<Classified>>(StringComparer.Ordinal);
        foreach (var raw in resources)
        {
            if (raw.ResourceType != "Observation")
            {
                continue;
            }
            var obs = raw.As(FhirJson.Default.Observation);
            if (!Readable(raw, obs, findings) || MeasureOf(obs!.Code) is not { } measure)
            {
                continue;
            }
            if (!byMeasure.TryGetValue(measure, out var list))
            {
                byMeasure[measure] = list = [];
            }
            list.Add(new Classified(raw.Key, obs, EffectiveDate(obs)));
        }
        List<Classified> Of(string valueSet) => byMeasure.TryGetValue(valueSet, out var list) ? list : [];

        Measurement? Pick(MeasureSpec spec, Func<Observation, int>? rank = null) =>
            PickMeasurement(spec, Of(spec.ValueSet), rank, asOf, staleBefore, findings);

        var lvef = Pick(LvefSpec, o => _t.Matches(Vs.LvefMethodSpecific, o.Code) ? 2 : _t.Matches(Vs.LvefUnspecifiedMethod, o.Code) ? 0 : 1);
        var mr = PickMrSeverity(Of(Vs.MrAssessment), asOf, staleBefore, findings);
        var conditions = ActiveConditions(resources);
        var hfref = Conditions(conditions, Vs.HfrefConditions);
        var cardiomyopathy = Conditions(conditions, Vs.CardiomyopathyConditions);
        var af = Conditions(conditions, Vs.AtrialFibrillationConditions);

        return new ClinicalSnapshot(
            asOf,
            options.StaleAfterMonths,
            lvef,
            Pick(LvesdSpec),
            Pick(PaspSpec),
            mr.Severity,
            ResolveMechanism(mr.Mechanism, conditions, lvef, hfref, cardiomyopathy, af),
            Pick(EroaSpec),
            Pick(RvolSpec),
            Pick(RfSpec),
            Pick(LvedvSpec),
            PickNyha(Of(Vs.NyhaAssessment), staleBefore),
            BuildGdmt(resources),
            hfref,
            cardiomyopathy,
            af,
            MitralProcedures(resources),
            findings,
            record.Unavailable,
            record.Notes);
    }

    private static List<RawResource> OwnResources(PatientRecord record, List<DataQualityFinding> findings)
    {
        var own = new List<RawResource>(record.Resources.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in record.Resources)
        {
            // The same resource can arrive twice (two prefetch keys, or a page boundary that shifted).
            if (r.Id is not null && !seen.Add(r.Key))
            {
                continue;
            }
            var subject = SubjectOf(r);
            if (subject is not null && subject != $"Patient/{record.PatientId}" && !subject.EndsWith($"/Patient/{record.PatientId}", StringComparison.Ordinal))
            {
                findings.Add(new DataQualityFinding(r.ResourceType, r.Key, $"belongs to {subject}, not to the patient in context; ignored"));
                continue;
            }
            own.Add(r);
        }
        return own;
    }

    private static string? SubjectOf(RawResource r) =>
        (r.Json.TryGetProperty("subject", out var s) || r.Json.TryGetProperty("patient", out s))
        && s.ValueKind == System.Text.Json.JsonValueKind.Object
        && s.TryGetProperty("reference", out var reference) && reference.ValueKind == System.Text.Json.JsonValueKind.String
            ? reference.GetString()
            : null;

    private static bool Readable<T>(RawResource raw, T? parsed, List<DataQualityFinding> findings) where T : class
    {
        if (parsed is null)
        {
            findings.Add(new DataQualityFinding(raw.ResourceType, raw.Key, "is not readable as FHIR R4; ignored"));
        }
        return parsed is not null;
    }

    private static DateTimeOffset? EffectiveDate(Observation o) =>
        FhirDate.Parse(o.EffectiveDateTime) ?? FhirDate.Parse(o.EffectiveInstant)
        ?? FhirDate.Parse(o.EffectivePeriod?.End) ?? FhirDate.Parse(o.EffectivePeriod?.Start) ?? FhirDate.Parse(o.Issued);

    /// <summary>Status, date and future-date checks shared by every measure. Null when the observation cannot be used.</summary>
    private static (DateTimeOffset Date, bool Final)? Usable(string measure, string key, Observation o, DateTimeOffset? effective, DateTimeOffset asOf, List<DataQualityFinding> findings)
    {
        if (o.Status is { } status && ExcludedStatuses.Contains(status))
        {
            findings.Add(new DataQualityFinding(measure, key, $"is marked {status}; not used"));
            return null;
        }
        if (effective is not { } date)
        {
            findings.Add(new DataQualityFinding(measure, key, "has no date; not used"));
            return null;
        }
        if (date > asOf.AddDays(1))
        {
            findings.Add(new DataQualityFinding(measure, key, $"is dated in the future ({FhirDate.Format(date)}); not used"));
            return null;
        }
        return (date, o.Status is { } s && FinalStatuses.Contains(s));
    }

    private static Measurement? PickMeasurement(MeasureSpec spec, List<Classified> observations, Func<Observation, int>? rank,
        DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(Measurement Value, bool Final, int Rank)>();
        foreach (var (key, o, effective) in observations)
        {
            if (Usable(spec.Name, key, o, effective, asOf, findings) is not { } usable)
            {
                continue;
            }
            if (o.ValueQuantity?.Value is null)
            {
                findings.Add(new DataQualityFinding(spec.Name, key, "has no numeric value; not used"));
                continue;
            }
            if (spec.Normalise(o.ValueQuantity) is not { } value)
            {
                findings.Add(new DataQualityFinding(spec.Name, key, $"has unit '{o.ValueQuantity.Code ?? o.ValueQuantity.Unit}' that cannot be read as {spec.Unit}; not used"));
                continue;
            }
            if (value < spec.Min || value > spec.Max)
            {
                findings.Add(new DataQualityFinding(spec.Name, key,
                    $"value {value:0.##} {spec.Unit} ({FhirDate.Format(usable.Date)}) is outside the plausible range {spec.Min}–{spec.Max} {spec.Unit}; not used"));
                continue;
            }
            candidates.Add((new Measurement(spec.Name, value, spec.Unit, usable.Date, key, usable.Date < staleBefore), usable.Final, rank?.Invoke(o) ?? 0));
        }
        // Never trust the server's sort order: final before preliminary, newest first, then the more specific method.
        var best = PreferFinal(candidates, c => c.Final, spec.Name, c => c.Value.Source, findings);
        return best.Count == 0 ? null : best.MaxBy(c => (c.Value.Date, c.Rank)).Value;
    }

    /// <summary>The final values if there are any; otherwise the preliminary ones, with a finding that says so.</summary>
    private static List<T> PreferFinal<T>(List<T> candidates, Func<T, bool> isFinal, string measure, Func<T, string> source, List<DataQualityFinding> findings)
    {
        var finals = candidates.Where(isFinal).ToList();
        if (finals.Count > 0 || candidates.Count == 0)
        {
            return finals;
        }
        findings.Add(new DataQualityFinding(measure, string.Join(", ", candidates.Select(source)), "only preliminary values are on record; the newest was used"));
        return candidates;
    }

    private static decimal? NormaliseLvef(Quantity q)
    {
        var unit = q.Code ?? q.Unit;
        if (UnitIs(q, "%"))
        {
            return q.Value;
        }
        // A value of at most 1 with unit "1" (or no unit) is a fraction: 0.35 means 35 %.
        if (string.IsNullOrEmpty(unit) || unit == "1")
        {
            return q.Value <= 1 ? q.Value * 100 : q.Value;
        }
        return null;
    }

    private static bool UnitIs(Quantity q, params string[] units) =>
        units.Contains(q.Code, StringComparer.Ordinal) || (q.Code is null && units.Contains(q.Unit, StringComparer.Ordinal));

    private (MrSeverity? Severity, (MechanismKind Kind, string? Subtype, string Source)? Mechanism) PickMrSeverity(
        List<Classified> observations, DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(MrSeverity Severity, bool Final, Observation Obs)>();
        foreach (var (key, o, effective) in observations)
        {
            if (Usable("MR severity", key, o, effective, asOf, findings) is not { } usable)
            {
                continue;
            }
            var (grade, label) = MrGrade(o);
            if (grade is null)
            {
                findings.Add(new DataQualityFinding("MR severity", key, o.ValueString is { } text
                    ? $"is free text ('{Truncate(text, 40)}'), which the service does not interpret; not used"
                    : "has no recognised severity; not used"));
                continue;
            }
            candidates.Add((new MrSeverity(grade.Value, label!, usable.Date, key, usable.Date < staleBefore), usable.Final, o));
        }
        var pool = PreferFinal(candidates, c => c.Final, "MR severity", c => c.Severity.Source, findings);
        if (pool.Count == 0)
        {
            return (null, null);
        }
        var best = pool.MaxBy(c => c.Severity.Date);
        var mechanism = best.Obs.Component?
            .Where(c => c.Code?.Coding?.Any(x => x.System == Terminology.Terminology.MechanismSystem && x.Code == "mechanism") == true)
            .Select(c => _t.Match(Vs.MrMechanism, c.ValueCodeableConcept))
            .FirstOrDefault(c => c is not null);
        return (best.Severity, mechanism is null ? null : (MechanismFromCode(mechanism.Code), SubtypeFromCode(mechanism.Code), best.Severity.Source));
    }

    private (decimal? Grade, string? Label) MrGrade(Observation o)
    {
        if (_t.Ordinal(Vs.MrSeverity, o.ValueCodeableConcept) is { } ordinal)
        {
            return (ordinal, GradeLabel(ordinal));
        }
        var integer = o.ValueInteger ?? (o.ValueQuantity?.Value is { } v && v == decimal.Truncate(v) && string.IsNullOrEmpty(o.ValueQuantity.Code ?? o.ValueQuantity.Unit) ? (int)v : null);
        return integer is >= 0 and <= 4 ? (integer, GradeLabel(integer.Value)) : (null, null);
    }

    public static string GradeLabel(decimal grade) => grade switch
    {
        >= 4 => "severe",
        >= 3 => "moderate-severe",
        >= 2 => "moderate",
        >= 1.5m => "mild-moderate",
        >= 1 => "mild",
        _ => "no",
    };

    private static MechanismKind MechanismFromCode(string? code) => code == "primary" ? MechanismKind.Primary : MechanismKind.Secondary;

    private static string? SubtypeFromCode(string? code) => code switch
    {
        "secondary-ventricular" => "ventricular",
        "secondary-atrial" => "atrial",
        _ => null,
    };

    private static List<(Condition Condition, string Key)> ActiveConditions(List<RawResource> resources) =>
        resources.Where(r => r.ResourceType == "Condition")
            .Select(r => (Condition: r.As(FhirJson.Default.Condition), r.Key))
            .Where(x => x.Condition is not null && IsActive(x.Condition))
            .Select(x => (x.Condition!, x.Key))
            .ToList();

    private static bool IsActive(Condition c)
    {
        var clinical = c.ClinicalStatus?.Coding?.FirstOrDefault()?.Code;
        var verification = c.VerificationStatus?.Coding?.FirstOrDefault()?.Code;
        return clinical is null or "active" or "recurrence" or "relapse"
            && verification is not ("entered-in-error" or "refuted");
    }

    private List<ConditionFinding> Conditions(List<(Condition Condition, string Key)> conditions, string valueSet) =>
        conditions.Select(x => (Match: _t.Match(valueSet, x.Condition.Code), x.Condition, x.Key))
            .Where(x => x.Match is not null)
            .Select(x => new ConditionFinding(x.Condition.Code?.Text ?? x.Match!.Display ?? _t.Display(valueSet, x.Match!) ?? x.Match!.Code!, x.Key))
            .ToList();

    private Mechanism ResolveMechanism((MechanismKind Kind, string? Subtype, string Source)? fromObservation,
        List<(Condition Condition, string Key)> conditions, Measurement? lvef,
        List<ConditionFinding> hfref, List<ConditionFinding> cardiomyopathy, List<ConditionFinding> af)
    {
        var recorded = new List<(MechanismKind Kind, string? Subtype, string Source)>();
        if (fromObservation is { } o)
        {
            recorded.Add(o);
        }
        foreach (var (condition, key) in conditions)
        {
            if (_t.Matches(Vs.PrimaryMrDisorders, condition.Code))
            {
                recorded.Add((MechanismKind.Primary, null, key));
            }
            else if (_t.Match(Vs.MrMechanism, condition.Code) is { } coding)
            {
                recorded.Add((MechanismFromCode(coding.Code), SubtypeFromCode(coding.Code), key));
            }
        }
        var sources = recorded.Select(r => r.Source).ToList();
        var kinds = recorded.Select(r => r.Kind).Distinct().ToList();
        if (kinds.Count > 1)
        {
            return new Mechanism(MechanismKind.Conflicting, null, false,
                $"recorded as primary ({string.Join(", ", recorded.Where(r => r.Kind == MechanismKind.Primary).Select(r => r.Source))}) " +
                $"and as secondary ({string.Join(", ", recorded.Where(r => r.Kind == MechanismKind.Secondary).Select(r => r.Source))})", sources);
        }
        if (kinds.Count == 1)
        {
            var subtypes = recorded.Select(r => r.Subtype).OfType<string>().Distinct().ToList();
            return new Mechanism(kinds[0], subtypes.Count == 1 ? subtypes[0] : null, false, $"recorded ({string.Join(", ", sources)})", sources);
        }
        // Not recorded: presume secondary only on the grounds clinical-logic.md names, and say which.
        if (lvef is { IsCurrent: true, Value: < 50 })
        {
            return new Mechanism(MechanismKind.Secondary, null, true,
                $"mechanism not recorded; presumed secondary because LVEF is {lvef.Display} ({lvef.DateText})", [lvef.Source]);
        }
        var substrate = hfref.Concat(cardiomyopathy).Concat(af).FirstOrDefault();
        if (substrate is not null)
        {
            return new Mechanism(MechanismKind.Secondary, null, true,
                $"mechanism not recorded; presumed secondary because {substrate.Name} is on record ({substrate.Source})", [substrate.Source]);
        }
        return new Mechanism(MechanismKind.Unknown, null, false, "mechanism not recorded and not presumable (no LVEF below 50 % and no HFrEF, cardiomyopathy or atrial fibrillation on record)", []);
    }

    private Measurement? PickNyha(List<Classified> observations, DateTimeOffset staleBefore) =>
        observations
            .Where(x => x.Obs.Status is not ("entered-in-error" or "cancelled"))
            .Select(x => (x.Key, x.Date, Class: _t.Ordinal(Vs.NyhaClass, x.Obs.ValueCodeableConcept)))
            .Where(x => x.Date is not null && x.Class is not null)
            .Select(x => new Measurement("NYHA class", x.Class!.Value, "", x.Date!.Value, x.Key, x.Date < staleBefore))
            .MaxBy(m => m.Date);

    private GdmtStatus BuildGdmt(List<RawResource> resources)
    {
        var medications = resources.Where(r => r.ResourceType == "Medication" && r.Id is not null)
            .ToDictionary(r => r.Key, r => r.As(FhirJson.Default.Medication));
        var byClass = Enum.GetValues<GdmtClass>().ToDictionary(c => c, _ => new List<MedicationUse>());
        var ambiguous = new List<MedicationUse>();
        var unclassified = 0;
        foreach (var r in resources)
        {
            var (active, concept, reference, contained) = r.ResourceType switch
            {
                "MedicationStatement" when r.As(FhirJson.Default.MedicationStatement) is { } s =>
                    (s.Status == "active", s.MedicationCodeableConcept, s.MedicationReference, s.Contained),
                "MedicationRequest" when r.As(FhirJson.Default.MedicationRequest) is { } m =>
                    (m.Status == "active", m.MedicationCodeableConcept, m.MedicationReference, m.Contained),
                _ => (false, null, null, null),
            };
            if (!active)
            {
                continue;
            }
            var concepts = MedicationConcepts(concept, reference, contained, medications).ToList();
            var use = new MedicationUse(concepts.Select(c => c.Text ?? c.Coding?.FirstOrDefault()?.Display).FirstOrDefault(n => n is not null) ?? "unnamed medication", r.Key);
            var matched = false;
            foreach (var (gdmtClass, valueSet) in ClassValueSets)
            {
                if (concepts.Any(c => _t.Matches(valueSet, c)))
                {
                    byClass[gdmtClass].Add(use);
                    matched = true;
                }
            }
            if (!matched && concepts.Any(c => _t.Matches(Vs.MetoprololUnspecifiedSalt, c)))
            {
                ambiguous.Add(use);
                matched = true;
            }
            if (!matched && !concepts.Any(c => c.Coding?.Any(x => x.System == "http://www.nlm.nih.gov/research/umls/rxnorm") == true))
            {
                unclassified++;
            }
        }
        return new GdmtStatus(byClass.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<MedicationUse>)kv.Value), ambiguous, unclassified);
    }

    private static readonly (GdmtClass Class, string ValueSet)[] ClassValueSets =
    [
        (GdmtClass.BetaBlocker, Vs.GdmtBetaBlocker),
        (GdmtClass.RaasInhibitor, Vs.GdmtRaasInhibitor),
        (GdmtClass.Mra, Vs.GdmtMra),
        (GdmtClass.Sglt2Inhibitor, Vs.GdmtSglt2Inhibitor),
    ];

    private static IEnumerable<CodeableConcept> MedicationConcepts(CodeableConcept? concept, Reference? reference,
        List<System.Text.Json.JsonElement>? contained, Dictionary<string, Medication?> medications)
    {
        if (concept is not null)
        {
            yield return concept;
        }
        if (reference?.Value is not { } target)
        {
            yield break;
        }
        Medication? medication = null;
        if (target.StartsWith('#'))
        {
            medication = contained?
                .Select(RawResource.From).OfType<RawResource>()
                .FirstOrDefault(c => c.ResourceType == "Medication" && c.Id == target[1..])
                .As(FhirJson.Default.Medication);
        }
        else
        {
            medications.TryGetValue(target, out medication);
        }
        if (medication?.Code is { } code)
        {
            yield return code;
        }
        foreach (var ingredient in medication?.Ingredient ?? [])
        {
            if (ingredient.ItemCodeableConcept is { } item)
            {
                yield return item;
            }
        }
    }

    private List<MitralProcedure> MitralProcedures(List<RawResource> resources) =>
        resources.Where(r => r.ResourceType == "Procedure")
            .Select(r => (Procedure: r.As(FhirJson.Default.Procedure), r.Key))
            .Where(x => x.Procedure is { Status: "completed" })
            .Select(x => (x.Procedure, x.Key, Kind: ProcedureKind(x.Procedure!.Code)))
            .Where(x => x.Kind is not null)
            .Select(x => new MitralProcedure(x.Kind!.Value, x.Procedure!.Code?.Text ?? x.Procedure.Code?.Coding?.FirstOrDefault()?.Display ?? "mitral procedure",
                FhirDate.Parse(x.Procedure.PerformedDateTime) ?? FhirDate.Parse(x.Procedure.PerformedPeriod?.Start), x.Key))
            .ToList();

    public MitralProcedureKind? ProcedureKind(CodeableConcept? code) =>
        _t.Matches(Vs.TeerProcedures, code) ? MitralProcedureKind.Teer
        : _t.Matches(Vs.MitralSurgicalRepair, code) ? MitralProcedureKind.SurgicalRepair
        : _t.Matches(Vs.MitralReplacement, code) ? MitralProcedureKind.Replacement
        : null;

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
