using System.Text.Json;
using CdsMitral.Fhir;

namespace CdsMitral.Snapshot;

/// <summary>
/// Turns the resources gathered for a patient into one value per measure, as clinical-logic.md describes:
/// the most recent final/amended/corrected value (preliminary only if nothing else), converted to one unit,
/// checked for plausibility and age, and always carrying the resource id and date it came from.
/// Split along the spec's input table: measurements (<c>.Measurements.cs</c>), MR severity, mechanism and diagnoses
/// (<c>.Mitral.cs</c>), medications (<c>.Medications.cs</c>) and procedures (<c>.Procedures.cs</c>); the choice of one
/// value among several, shared by all of them, in <c>.Newest.cs</c>. This file reads the record: the patient's own
/// resources, each once.
/// Pure: no clock, no I/O.
/// </summary>
public sealed partial class SnapshotBuilder(Terminology.Terminology terminology, ClinicalOptions options)
{
    private readonly Terminology.Terminology _t = terminology;

    private static readonly string[] FinalStatuses = ["final", "amended", "corrected"];
    private static readonly string[] ExcludedStatuses = ["entered-in-error", "cancelled"];
    private static readonly FhirRead.KnownStrings KnownStatuses = new([.. FinalStatuses, .. ExcludedStatuses, "preliminary", "registered", "unknown"]);
    private const string Unreadable = "is not readable as FHIR R4; ignored";
    private static readonly List<Obs> NoObservations = []; // read, never written

    public ClinicalSnapshot Build(PatientRecord record, DateTimeOffset asOf)
    {
        var findings = new List<DataQualityFinding>();
        var staleBefore = asOf.AddMonths(-options.StaleAfterMonths);
        var resources = OwnResources(record, findings);

        var byMeasure = new Dictionary<string, List<Obs>>(StringComparer.Ordinal);
        var read = new List<Obs>(4);
        foreach (var r in resources)
        {
            if (r.ResourceType != "Observation")
            {
                continue;
            }
            read.Clear();
            try
            {
                ReadObservation(r, read);
            }
            catch (FhirShapeException)
            {
                findings.Add(new DataQualityFinding(r.ResourceType, r.Key, Unreadable));
                continue;
            }
            foreach (var observation in read)
            {
                if (!byMeasure.TryGetValue(observation.Measure, out var list))
                {
                    byMeasure[observation.Measure] = list = [];
                }
                list.Add(observation);
            }
        }
        List<Obs> Of(string valueSet) => byMeasure.TryGetValue(valueSet, out var list) ? list : NoObservations;

        Measurement? Pick(MeasureSpec spec) => PickMeasurement(spec, Of(spec.ValueSet), asOf, staleBefore, findings);

        var lvef = Pick(LvefSpec);
        var mr = PickMrSeverity(Of(Terminology.Vs.MrAssessment), asOf, staleBefore, findings);
        // Sorted by source wherever a list reaches a card: the answer never depends on the order of the resources (decision 14).
        var conditions = ReadAll(resources, ["Condition"], r => ReadCondition(r, findings), findings)
            .OrderBy(c => c.Finding.Source, StringComparer.Ordinal).ToList();
        var hfref = conditions.Where(c => c.Hfref).Select(c => c.Finding).ToList();
        var cardiomyopathy = conditions.Where(c => c.Cardiomyopathy).Select(c => c.Finding).ToList();
        var af = conditions.Where(c => c.AtrialFibrillation).Select(c => c.Finding).ToList();
        var acute = conditions.Where(c => c.Shock).Select(c => new AcuteFinding(c.Finding.Name, c.Finding.Source, Support: false, c.Noted?.Value, c.Noted?.Precision ?? DatePrecision.Day))
            .Concat(ReadAll(resources, ["Procedure"], ReadCirculatorySupport, findings)).OrderBy(a => a.Source, StringComparer.Ordinal).ToList();
        var procedures = ReadAll(resources, ["Procedure"], ReadMitralProcedure, findings)
            .OrderByDescending(p => p.Date ?? DateTimeOffset.MinValue).ThenBy(p => p.Source, StringComparer.Ordinal).ToList();
        var patient = ReadAll(resources, ["Patient"], r => ReadPatient(r, record.PatientId), findings).FirstOrDefault();
        var gdmt = BuildGdmt(resources, findings);
        var nyha = PickNyha(Of(Terminology.Vs.NyhaAssessment), asOf, staleBefore, findings);

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
            nyha,
            gdmt,
            hfref,
            cardiomyopathy,
            af,
            procedures,
            [.. findings.OrderBy(f => f.Measure, StringComparer.Ordinal).ThenBy(f => f.Source, StringComparer.Ordinal).ThenBy(f => f.Problem, StringComparer.Ordinal)],
            record.Unavailable,
            record.Notes,
            patient,
            acute.Count == 0 ? null : acute);
    }

    /// <summary>The Patient resource of the patient in context (decision 18): deceased, and the birth date.</summary>
    private static PatientFacts? ReadPatient(RawResource r, string patientId)
    {
        if (!r.Json.Is("id"u8, patientId))
        {
            return null;
        }
        var deceasedOn = r.Json.RecordedDate("deceasedDateTime"u8);
        var deceased = deceasedOn is not null
            || (r.Json.TryGetProperty("deceasedBoolean"u8, out var flag) && flag.ValueKind == JsonValueKind.True);
        var born = r.Json.RecordedDate("birthDate"u8);
        return new PatientFacts(r.Key, deceased, deceasedOn?.Value, born?.Value, born?.Precision ?? DatePrecision.Day, deceasedOn?.Precision ?? DatePrecision.Day);
    }

    private static List<RawResource> OwnResources(PatientRecord record, List<DataQualityFinding> findings)
    {
        // Usually every resource is the patient's own, once: the record's list is then used as it is, not copied.
        var all = record.Resources;
        List<RawResource>? own = null;
        var seen = new HashSet<string>(all.Count, StringComparer.Ordinal);
        var patient = $"Patient/{record.PatientId}";
        for (var i = 0; i < all.Count; i++)
        {
            var r = all[i];
            // The same resource can arrive twice (two prefetch keys, or a page boundary that shifted).
            var duplicate = r.HasId && !seen.Add(r.Key);
            var subject = duplicate ? null : ForeignSubject(r, patient);
            if (subject is not null)
            {
                findings.Add(new DataQualityFinding(r.ResourceType, r.Key, $"belongs to {subject}, not to the patient in context; ignored"));
            }
            if (duplicate || subject is not null)
            {
                own ??= [.. all.Take(i)];
                continue;
            }
            own?.Add(r);
        }
        return own ?? all as List<RawResource> ?? [.. all];
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
}
