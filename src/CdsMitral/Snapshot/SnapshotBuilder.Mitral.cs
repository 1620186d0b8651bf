using System.Text.Json;
using CdsMitral.Clinical;
using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Snapshot;

// MR severity, MR mechanism and the diagnoses that bear on it (HFrEF, cardiomyopathy, atrial fibrillation, primary and
// rheumatic mitral disease).
public sealed partial class SnapshotBuilder
{
    /// <summary>The code of the mechanism component, if one is in the ValueSet (only the code is used).</summary>
    private string? ReadMechanismComponent(JsonElement observation)
    {
        foreach (var component in observation.Objects("component"u8))
        {
            if (FhirRead.HasCoding(component.Child("code"u8), Terminology.Terminology.MechanismSystem, "mechanism")
                && _t.MatchCode(Vs.MrMechanism, component.Child("valueCodeableConcept"u8)) is { } m)
            {
                return m;
            }
        }
        return null;
    }

    private static (MrSeverity? Severity, (MechanismKind Kind, string? Subtype, string Source)? Mechanism) PickMrSeverity(
        List<Obs> observations, DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(MrSeverity Severity, bool Final, Obs Obs, RecordedDate Date)>(observations.Count);
        foreach (var o in observations)
        {
            if (Usable("MR severity", o, asOf, findings) is not { } usable)
            {
                continue;
            }
            var (grade, label) = MrGrade(o);
            if (grade is null)
            {
                findings.Add(new DataQualityFinding("MR severity", o.Key, o.ValueString is not null
                    ? "is free text, which the service does not interpret; not used"
                    : "has no recognised severity; not used"));
                continue;
            }
            candidates.Add((new MrSeverity(grade.Value, label!, usable.Date.Value, o.Key, usable.Date.Value < staleBefore, usable.Date.Precision),
                usable.Final, o, usable.Date));
        }
        PreferFinal(candidates, c => c.Final, "MR severity", c => c.Severity.Source, findings);
        var (best, conflicting) = Newest(candidates, c => c.Date, _ => 0, (a, b) => a.Severity.Grade == b.Severity.Grade);
        if (conflicting is not null)
        {
            // The record shows the higher grade in one assessment: keep it, marked as conflicting, so that a data-gap card
            // can say so while no card rests on it.
            var highest = 0;
            for (var i = 1; i < conflicting.Count; i++)
            {
                highest = conflicting[i].Severity.Grade > conflicting[highest].Severity.Grade ? i : highest;
            }
            findings.Add(new DataQualityFinding("MR severity", string.Join(", ", conflicting.Select(c => c.Severity.Source)),
                $"record different grades on {conflicting[highest].Date.CalendarDate:yyyy-MM-dd} ({string.Join(", ", conflicting.Select(c => c.Severity.Label))}) that cannot be ordered in time; conflicting"));
            return (conflicting[highest].Severity with { ConflictsWith = conflicting.Where((_, i) => i != highest).Select(c => c.Severity.Source).ToList() }, null);
        }
        if (best < 0)
        {
            return (null, null);
        }
        var mechanism = candidates[best].Obs.Mechanism;
        return (candidates[best].Severity, mechanism is null ? null : (MechanismFromCode(mechanism), SubtypeFromCode(mechanism), candidates[best].Severity.Source));
    }

    private static (decimal? Grade, string? Label) MrGrade(Obs o)
    {
        if (o.Ordinal is { } ordinal)
        {
            return (ordinal, GradeLabel(ordinal));
        }
        var integer = o.ValueInteger ?? (o.Quantity is { Value: { } v, Comparator: null } q && v == decimal.Truncate(v) && string.IsNullOrEmpty(q.Unit) ? (int)v : null);
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

    /// <summary>A diagnosis that counts, with what the snapshot asks of its code answered once.</summary>
    private sealed record ActiveCondition(
        ConditionFinding Finding, bool Hfref, bool Cardiomyopathy, bool AtrialFibrillation, bool PrimaryMr, Coding? Mechanism);

    private static readonly string[] CountingClinicalStatuses = ["active", "recurrence", "relapse"];
    private static readonly string[] TentativeVerifications = ["unconfirmed", "provisional", "differential"];

    /// <summary>A Condition counts only when confirmed (or with no verification status) and active, recurrent or relapsed
    /// (decision 9 of 2026-11-28). A tentative diagnosis that would have mattered is named, not counted.</summary>
    private ActiveCondition? ReadCondition(RawResource r, List<DataQualityFinding> findings)
    {
        var code = r.Json.Child("code"u8);
        var hfref = _t.Match(Vs.HfrefConditions, code);
        var cardiomyopathy = _t.Match(Vs.CardiomyopathyConditions, code);
        var af = _t.Match(Vs.AtrialFibrillationConditions, code);
        var primary = _t.Matches(Vs.PrimaryMrDisorders, code);
        var mechanism = _t.Match(Vs.MrMechanism, code);
        if (hfref is null && cardiomyopathy is null && af is null && !primary && mechanism is null)
        {
            return null;
        }
        var (substrate, valueSet) = hfref is not null ? (hfref, Vs.HfrefConditions)
            : cardiomyopathy is not null ? (cardiomyopathy, Vs.CardiomyopathyConditions)
            : (af, Vs.AtrialFibrillationConditions);
        var name = FhirRead.Label(code) ?? (substrate is null ? null : _t.Display(valueSet, substrate)) ?? substrate?.Code ?? "condition";
        var clinical = FirstCode(r.Json.Child("clinicalStatus"u8));
        var verification = FirstCode(r.Json.Child("verificationStatus"u8));
        if (verification is not (null or "confirmed"))
        {
            if (TentativeVerifications.Contains(verification))
            {
                findings.Add(new DataQualityFinding("Diagnosis", r.Key, $"({name}) is recorded as {verification}; not counted"));
            }
            return null;
        }
        if (clinical is null || !CountingClinicalStatuses.Contains(clinical))
        {
            if (clinical is null)
            {
                findings.Add(new DataQualityFinding("Diagnosis", r.Key, $"({name}) has no clinical status; not counted"));
            }
            return null;
        }
        return new ActiveCondition(new ConditionFinding(name, r.Key), hfref is not null, cardiomyopathy is not null, af is not null, primary, mechanism);
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
        if (lvef is { IsCurrent: true } && Interval.Judge(lvef, Interval.Below(Thresholds.ReducedEfBelow)) == Verdict.Met)
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
        return new Mechanism(MechanismKind.Unknown, null, false,
            "mechanism not recorded and not presumable (no LVEF below 50 % and no HFrEF, cardiomyopathy or atrial fibrillation on record)", []);
    }
}
