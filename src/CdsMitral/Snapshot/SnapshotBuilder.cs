using System.Collections.Frozen;
using System.Text.Json;
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
    /// <summary>An observation of a measure, read once, in place: the members the snapshot uses. <paramref name="Ordinal"/> is
    /// the coded value's grade (MR severity, NYHA class); <paramref name="Rank"/> prefers the more specific LVEF method.</summary>
    private sealed record Obs(
        string Measure, string Key, string? Status, DateTimeOffset? Date, Quantity? Quantity, decimal? Ordinal, int? ValueInteger, string? ValueString,
        Coding? Mechanism, int Rank);

    private readonly record struct Quantity(decimal? Value, string? Unit, string? Code);

    private static readonly string[] FinalStatuses = ["final", "amended", "corrected"];
    private static readonly string[] ExcludedStatuses = ["entered-in-error", "cancelled"];
    private static readonly FhirRead.KnownStrings KnownStatuses = new([.. FinalStatuses, .. ExcludedStatuses, "preliminary", "registered", "unknown"]);
    private static readonly FhirRead.KnownStrings KnownUnits = new(["%", "mm", "mm[Hg]", "mL", "cm2", "1", "cm", "mmHg", "mm Hg", "cm^2", "cm²", "mm2", "mm^2", "mm²", "ml"]);
    private const string Unreadable = "is not readable as FHIR R4; ignored";

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
    private readonly FrozenDictionary<(string System, string Code), string> _measureOf = MeasureTable(terminology);

    private static readonly string[] MeasureValueSets =
        [Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.Eroa, Vs.RegurgitantVolume, Vs.RegurgitantFraction, Vs.Lvedv, Vs.MrAssessment, Vs.NyhaAssessment];

    private static FrozenDictionary<(string System, string Code), string> MeasureTable(Terminology.Terminology t)
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
        return table.ToFrozenDictionary();
    }

    /// <summary>The measure an observation is of, and, if it is one, the members the snapshot uses. Null for any other
    /// observation, which is not read further.</summary>
    /// <exception cref="FhirShapeException">A member the snapshot reads is not shaped as FHIR R4.</exception>
    private Obs? ReadObservation(RawResource raw)
    {
        var json = raw.Json;
        if (json.Child("code"u8) is not { } code || _t.Find(_measureOf, code) is not { } match)
        {
            return null;
        }
        var measure = _measureOf[(match.System, match.Code)];
        var period = json.Child("effectivePeriod"u8);
        var date = json.Date("effectiveDateTime"u8) ?? json.Date("effectiveInstant"u8)
            ?? period?.Date("end"u8) ?? period?.Date("start"u8) ?? json.Date("issued"u8);
        Quantity? quantity = json.Child("valueQuantity"u8) is { } q
            ? new Quantity(q.DecimalValue("value"u8), q.OneOf("unit"u8, KnownUnits) ?? q.Text("unit"u8), q.OneOf("code"u8, KnownUnits) ?? q.Text("code"u8))
            : null;
        var value = json.Child("valueCodeableConcept"u8);
        var ordinal = measure switch
        {
            Vs.MrAssessment => _t.Ordinal(Vs.MrSeverity, value),
            Vs.NyhaAssessment => _t.Ordinal(Vs.NyhaClass, value),
            _ => null,
        };
        var rank = measure != Vs.Lvef ? 0 : _t.Matches(Vs.LvefMethodSpecific, code) ? 2 : _t.Matches(Vs.LvefUnspecifiedMethod, code) ? 0 : 1;
        Coding? mechanism = null;
        if (measure == Vs.MrAssessment)
        {
            foreach (var component in json.Objects("component"u8))
            {
                if (FhirRead.HasCoding(component.Child("code"u8), Terminology.Terminology.MechanismSystem, "mechanism") && _t.Match(Vs.MrMechanism, component.Child("valueCodeableConcept"u8)) is { } m)
                {
                    mechanism = m;
                    break;
                }
            }
        }
        return new Obs(measure, raw.Key, json.OneOf("status"u8, KnownStatuses) ?? json.Text("status"u8), date, quantity,
            ordinal, json.IntegerValue("valueInteger"u8), json.Text("valueString"u8), mechanism, rank);
    }

    public ClinicalSnapshot Build(PatientRecord record, DateTimeOffset asOf)
    {
        var findings = new List<DataQualityFinding>();
        var staleBefore = asOf.AddMonths(-options.StaleAfterMonths);
        var resources = OwnResources(record, findings);

        var byMeasure = new Dictionary<string, List<Obs>>(StringComparer.Ordinal);
        foreach (var observation in ReadAll(resources, ["Observation"], ReadObservation, findings))
        {
            if (!byMeasure.TryGetValue(observation.Measure, out var list))
            {
                byMeasure[observation.Measure] = list = [];
            }
            list.Add(observation);
        }
        List<Obs> Of(string valueSet) => byMeasure.TryGetValue(valueSet, out var list) ? list : [];

        Measurement? Pick(MeasureSpec spec) => PickMeasurement(spec, Of(spec.ValueSet), asOf, staleBefore, findings);

        var lvef = Pick(LvefSpec);
        var mr = PickMrSeverity(Of(Vs.MrAssessment), asOf, staleBefore, findings);
        var conditions = ReadAll(resources, ["Condition"], ReadActiveCondition, findings);
        var hfref = conditions.Where(c => c.Hfref).Select(c => c.Finding).ToList();
        var cardiomyopathy = conditions.Where(c => c.Cardiomyopathy).Select(c => c.Finding).ToList();
        var af = conditions.Where(c => c.AtrialFibrillation).Select(c => c.Finding).ToList();

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
            BuildGdmt(resources, findings),
            hfref,
            cardiomyopathy,
            af,
            ReadAll(resources, ["Procedure"], ReadMitralProcedure, findings),
            findings,
            record.Unavailable,
            record.Notes);
    }

    private static List<RawResource> OwnResources(PatientRecord record, List<DataQualityFinding> findings)
    {
        var own = new List<RawResource>(record.Resources.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var patient = $"Patient/{record.PatientId}";
        foreach (var r in record.Resources)
        {
            // The same resource can arrive twice (two prefetch keys, or a page boundary that shifted).
            if (r.Id is not null && !seen.Add(r.Key))
            {
                continue;
            }
            if (ForeignSubject(r, patient) is { } subject)
            {
                findings.Add(new DataQualityFinding(r.ResourceType, r.Key, $"belongs to {subject}, not to the patient in context; ignored"));
                continue;
            }
            own.Add(r);
        }
        return own;
    }

    /// <summary>Reads each resource of one type. One whose members are not shaped as FHIR R4 is named in the findings and
    /// skipped; one read as null is simply not relevant (another code, an inactive condition).</summary>
    private static List<T> ReadAll<T>(List<RawResource> resources, string[] types, Func<RawResource, T?> read, List<DataQualityFinding> findings)
        where T : class
    {
        var values = new List<T>();
        foreach (var r in resources)
        {
            if (!types.Contains(r.ResourceType))
            {
                continue;
            }
            try
            {
                if (read(r) is { } value)
                {
                    values.Add(value);
                }
            }
            catch (FhirShapeException)
            {
                findings.Add(new DataQualityFinding(r.ResourceType, r.Key, Unreadable));
            }
        }
        return values;
    }

    /// <summary>The subject (or patient) reference when it names another patient than <paramref name="patient"/>; null when
    /// it names this one (relative or absolute) or is absent.</summary>
    private static string? ForeignSubject(RawResource r, string patient)
    {
        if (!(r.Json.TryGetProperty("subject"u8, out var s) || r.Json.TryGetProperty("patient"u8, out s))
            || s.ValueKind != JsonValueKind.Object
            || !s.TryGetProperty("reference"u8, out var reference) || reference.ValueKind != JsonValueKind.String
            || reference.ValueEquals(patient))
        {
            return null;
        }
        var subject = reference.GetString()!;
        return subject.EndsWith($"/{patient}", StringComparison.Ordinal) ? null : subject;
    }

    /// <summary>Status, date and future-date checks shared by every measure. Null when the observation cannot be used.</summary>
    private static (DateTimeOffset Date, bool Final)? Usable(string measure, Obs o, DateTimeOffset asOf, List<DataQualityFinding> findings)
    {
        if (o.Status is { } status && ExcludedStatuses.Contains(status))
        {
            findings.Add(new DataQualityFinding(measure, o.Key, $"is marked {status}; not used"));
            return null;
        }
        if (o.Date is not { } date)
        {
            findings.Add(new DataQualityFinding(measure, o.Key, "has no date; not used"));
            return null;
        }
        if (date > asOf.AddDays(1))
        {
            findings.Add(new DataQualityFinding(measure, o.Key, $"is dated in the future ({FhirDate.Format(date)}); not used"));
            return null;
        }
        return (date, o.Status is { } s && FinalStatuses.Contains(s));
    }

    private static Measurement? PickMeasurement(MeasureSpec spec, List<Obs> observations,
        DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(Measurement Value, bool Final, int Rank)>();
        foreach (var o in observations)
        {
            if (Usable(spec.Name, o, asOf, findings) is not { } usable)
            {
                continue;
            }
            if (o.Quantity is not { Value: not null } quantity)
            {
                findings.Add(new DataQualityFinding(spec.Name, o.Key, "has no numeric value; not used"));
                continue;
            }
            if (spec.Normalise(quantity) is not { } value)
            {
                findings.Add(new DataQualityFinding(spec.Name, o.Key, $"has unit '{quantity.Code ?? quantity.Unit}' that cannot be read as {spec.Unit}; not used"));
                continue;
            }
            if (value < spec.Min || value > spec.Max)
            {
                findings.Add(new DataQualityFinding(spec.Name, o.Key,
                    $"value {value:0.##} {spec.Unit} ({FhirDate.Format(usable.Date)}) is outside the plausible range {spec.Min}–{spec.Max} {spec.Unit}; not used"));
                continue;
            }
            candidates.Add((new Measurement(spec.Name, value, spec.Unit, usable.Date, o.Key, usable.Date < staleBefore), usable.Final, o.Rank));
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

    private static (MrSeverity? Severity, (MechanismKind Kind, string? Subtype, string Source)? Mechanism) PickMrSeverity(
        List<Obs> observations, DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(MrSeverity Severity, bool Final, Obs Obs)>();
        foreach (var o in observations)
        {
            if (Usable("MR severity", o, asOf, findings) is not { } usable)
            {
                continue;
            }
            var (grade, label) = MrGrade(o);
            if (grade is null)
            {
                findings.Add(new DataQualityFinding("MR severity", o.Key, o.ValueString is { } text
                    ? $"is free text ('{Truncate(text, 40)}'), which the service does not interpret; not used"
                    : "has no recognised severity; not used"));
                continue;
            }
            candidates.Add((new MrSeverity(grade.Value, label!, usable.Date, o.Key, usable.Date < staleBefore), usable.Final, o));
        }
        var pool = PreferFinal(candidates, c => c.Final, "MR severity", c => c.Severity.Source, findings);
        if (pool.Count == 0)
        {
            return (null, null);
        }
        var best = pool.MaxBy(c => c.Severity.Date);
        var mechanism = best.Obs.Mechanism;
        return (best.Severity, mechanism is null ? null : (MechanismFromCode(mechanism.Code), SubtypeFromCode(mechanism.Code), best.Severity.Source));
    }

    private static (decimal? Grade, string? Label) MrGrade(Obs o)
    {
        if (o.Ordinal is { } ordinal)
        {
            return (ordinal, GradeLabel(ordinal));
        }
        var integer = o.ValueInteger ?? (o.Quantity is { Value: { } v } q && v == decimal.Truncate(v) && string.IsNullOrEmpty(q.Code ?? q.Unit) ? (int)v : null);
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

    /// <summary>An active condition, with what the snapshot asks of its code answered once.</summary>
    private sealed record ActiveCondition(
        ConditionFinding Finding, bool Hfref, bool Cardiomyopathy, bool AtrialFibrillation, bool PrimaryMr, Coding? Mechanism);

    private ActiveCondition? ReadActiveCondition(RawResource r)
    {
        var clinical = FirstCode(r.Json.Child("clinicalStatus"u8));
        var verification = FirstCode(r.Json.Child("verificationStatus"u8));
        if (clinical is not (null or "active" or "recurrence" or "relapse") || verification is "entered-in-error" or "refuted")
        {
            return null;
        }
        var code = r.Json.Child("code"u8);
        var hfref = _t.Match(Vs.HfrefConditions, code);
        var cardiomyopathy = _t.Match(Vs.CardiomyopathyConditions, code);
        var af = _t.Match(Vs.AtrialFibrillationConditions, code);
        var (substrate, valueSet) = hfref is not null ? (hfref, Vs.HfrefConditions)
            : cardiomyopathy is not null ? (cardiomyopathy, Vs.CardiomyopathyConditions)
            : (af, Vs.AtrialFibrillationConditions);
        var name = code?.Text("text"u8) ?? substrate?.Display ?? (substrate is null ? null : _t.Display(valueSet, substrate)) ?? substrate?.Code ?? "condition";
        return new ActiveCondition(new ConditionFinding(name, r.Key), hfref is not null, cardiomyopathy is not null, af is not null,
            _t.Matches(Vs.PrimaryMrDisorders, code), _t.Match(Vs.MrMechanism, code));
    }

    private static string? FirstCode(JsonElement? concept)
    {
        foreach (var coding in concept?.Objects("coding"u8) ?? default)
        {
            return coding.Text("code"u8);
        }
        return null;
    }

    private static Mechanism ResolveMechanism((MechanismKind Kind, string? Subtype, string Source)? fromObservation,
        List<ActiveCondition> conditions, Measurement? lvef,
        List<ConditionFinding> hfref, List<ConditionFinding> cardiomyopathy, List<ConditionFinding> af)
    {
        var recorded = new List<(MechanismKind Kind, string? Subtype, string Source)>();
        if (fromObservation is { } o)
        {
            recorded.Add(o);
        }
        foreach (var condition in conditions)
        {
            if (condition.PrimaryMr)
            {
                recorded.Add((MechanismKind.Primary, null, condition.Finding.Source));
            }
            else if (condition.Mechanism is { } coding)
            {
                recorded.Add((MechanismFromCode(coding.Code), SubtypeFromCode(coding.Code), condition.Finding.Source));
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

    private static Measurement? PickNyha(List<Obs> observations, DateTimeOffset staleBefore) =>
        observations
            .Where(x => x.Status is not ("entered-in-error" or "cancelled") && x.Date is not null && x.Ordinal is not null)
            .Select(x => new Measurement("NYHA class", x.Ordinal!.Value, "", x.Date!.Value, x.Key, x.Date < staleBefore))
            .MaxBy(m => m.Date);

    private GdmtStatus BuildGdmt(List<RawResource> resources, List<DataQualityFinding> findings)
    {
        Dictionary<string, JsonElement>? medications = null;
        foreach (var r in resources)
        {
            if (r.ResourceType == "Medication" && r.Id is not null)
            {
                (medications ??= new(StringComparer.Ordinal))[r.Key] = r.Json;
            }
        }
        var byClass = Enum.GetValues<GdmtClass>().ToDictionary(c => c, _ => new List<MedicationUse>());
        var ambiguous = new List<MedicationUse>();
        var unclassified = 0;
        var uses = ReadAll(resources, ["MedicationStatement", "MedicationRequest"], r => ReadMedicationUse(r, medications), findings);
        foreach (var (use, classes, metoprololSaltUnknown, rxNorm) in uses)
        {
            foreach (var (gdmtClass, _) in ClassValueSets)
            {
                if ((classes & (1 << (int)gdmtClass)) != 0)
                {
                    byClass[gdmtClass].Add(use);
                }
            }
            if (classes == 0 && metoprololSaltUnknown)
            {
                ambiguous.Add(use);
            }
            else if (classes == 0 && !rxNorm)
            {
                unclassified++;
            }
        }
        return new GdmtStatus(byClass.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<MedicationUse>)kv.Value), ambiguous, unclassified);
    }

    /// <summary>An active medication statement or request, classified: its GDMT classes (bit 1 &lt;&lt; class), whether it
    /// is metoprolol without a salt, and whether it is coded in RxNorm at all.</summary>
    private sealed record MedicationRead(MedicationUse Use, int Classes, bool MetoprololSaltUnknown, bool RxNorm);

    private MedicationRead? ReadMedicationUse(RawResource r, Dictionary<string, JsonElement>? medications)
    {
        if (!r.Json.Is("status"u8, "active"))
        {
            return null;
        }
        var concepts = new List<JsonElement>(2);
        MedicationConcepts(r.Json, medications, concepts);
        string? name = null;
        var (classes, metoprolol, rxNorm) = (0, false, false);
        foreach (var concept in concepts)
        {
            name ??= FhirRead.Label(concept);
            foreach (var (gdmtClass, valueSet) in ClassValueSets)
            {
                classes |= _t.Matches(valueSet, concept) ? 1 << (int)gdmtClass : 0;
            }
            metoprolol |= _t.Matches(Vs.MetoprololUnspecifiedSalt, concept);
            rxNorm |= FhirRead.HasCoding(concept, RxNorm);
        }
        return new MedicationRead(new MedicationUse(name ?? "unnamed medication", r.Key), classes, metoprolol, rxNorm);
    }

    private const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";

    private static readonly (GdmtClass Class, string ValueSet)[] ClassValueSets =
    [
        (GdmtClass.BetaBlocker, Vs.GdmtBetaBlocker),
        (GdmtClass.RaasInhibitor, Vs.GdmtRaasInhibitor),
        (GdmtClass.Mra, Vs.GdmtMra),
        (GdmtClass.Sglt2Inhibitor, Vs.GdmtSglt2Inhibitor),
    ];

    /// <summary>The concepts that name a statement's or request's medication: its own code, and the code and ingredients
    /// of the Medication it references (contained, or elsewhere in the record).</summary>
    private static void MedicationConcepts(JsonElement use, Dictionary<string, JsonElement>? medications, List<JsonElement> concepts)
    {
        if (use.Child("medicationCodeableConcept"u8) is { } concept)
        {
            concepts.Add(concept);
        }
        if (use.Reference("medicationReference"u8) is not { } target)
        {
            return;
        }
        JsonElement? medication = null;
        if (target.StartsWith('#'))
        {
            foreach (var contained in use.Objects("contained"u8))
            {
                if (contained.Text("resourceType"u8) == "Medication" && contained.Text("id"u8) == target[1..])
                {
                    medication = contained;
                    break;
                }
            }
        }
        else if (medications?.TryGetValue(target, out var referenced) == true)
        {
            medication = referenced;
        }
        if (medication is not { } m)
        {
            return;
        }
        if (m.Child("code"u8) is { } code)
        {
            concepts.Add(code);
        }
        foreach (var ingredient in m.Objects("ingredient"u8))
        {
            if (ingredient.Child("itemCodeableConcept"u8) is { } item)
            {
                concepts.Add(item);
            }
        }
    }

    private MitralProcedure? ReadMitralProcedure(RawResource r)
    {
        if (!r.Json.Is("status"u8, "completed") || r.Json.Child("code"u8) is not { } code || ProcedureKind(code) is not { } kind)
        {
            return null;
        }
        var date = r.Json.Date("performedDateTime"u8) ?? r.Json.Child("performedPeriod"u8)?.Date("start"u8);
        return new MitralProcedure(kind, FhirRead.Label(code) ?? "mitral procedure", date, r.Key);
    }

    private MitralProcedureKind? ProcedureKind(JsonElement code) =>
        _t.Matches(Vs.TeerProcedures, code) ? MitralProcedureKind.Teer
        : _t.Matches(Vs.MitralSurgicalRepair, code) ? MitralProcedureKind.SurgicalRepair
        : _t.Matches(Vs.MitralReplacement, code) ? MitralProcedureKind.Replacement
        : null;

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
