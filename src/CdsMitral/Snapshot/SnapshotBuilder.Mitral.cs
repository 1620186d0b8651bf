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

    /// <summary>What one source says of the MR mechanism, and when.</summary>
    private sealed record MechanismStatement(MechanismKind Kind, string? Subtype, string Source, RecordedDate? Date)
    {
        public string Words => Kind == MechanismKind.Primary ? "primary" : Subtype is { } sub ? $"secondary {sub}" : "secondary";
    }

    private static (MrSeverity? Severity, List<MechanismStatement> Mechanism) PickMrSeverity(
        List<Obs> observations, DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(MrSeverity Severity, bool Final, bool Amended, Obs Obs, RecordedDate Date)>(observations.Count);
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
                usable.Final, usable.Amended, o, usable.Date));
        }
        PreferFinal(candidates, c => c.Final, "MR severity", c => c.Severity.Source, findings);
        var mechanism = NewestMechanism(candidates.Where(c => c.Obs.Mechanism is not null)
            .Select(c => new MechanismStatement(MechanismFromCode(c.Obs.Mechanism), SubtypeFromCode(c.Obs.Mechanism), c.Severity.Source, c.Date)).ToList());
        var (best, conflicting) = Newest(candidates, c => c.Date, _ => 0, (a, b) => a.Severity.Grade == b.Severity.Grade,
            c => c.Amended, c => c.Severity.Source);
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
                $"record different grades on {conflicting[highest].Date.CalendarDate:yyyy-MM-dd} ({string.Join(", ", conflicting.Select(c => c.Severity.Label))}) that cannot be ordered in time; conflicting",
                $"conflicting on {FhirDate.Format(conflicting[highest].Date.Value)}"));
            return (conflicting[highest].Severity with { ConflictsWith = conflicting.Where((_, i) => i != highest).Select(c => c.Severity.Source).ToList() }, mechanism);
        }
        return (best < 0 ? null : candidates[best].Severity, mechanism);
    }

    /// <summary>Decision 14 of 2026-12-07: across dates the most recent statement of the mechanism stands (ordered as values
    /// are, decision 15); the statements of that newest calendar date all stand together, and if they disagree the mechanism
    /// is conflicting. Sorted by source, so that the order of the resources changes nothing.</summary>
    private static List<MechanismStatement> NewestMechanism(List<MechanismStatement> statements)
    {
        if (statements.Count == 0)
        {
            return statements;
        }
        var day = NewestDay(statements, s => s.Date!.Value);
        return statements.Where(s => s.Date!.Value.CalendarDate == day).OrderBy(s => s.Source, StringComparer.Ordinal).ToList();
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
        ConditionFinding Finding, bool Hfref, bool Cardiomyopathy, bool AtrialFibrillation, bool PrimaryMr, Coding? Mechanism, bool Shock,
        RecordedDate? Noted = null);

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
        var shock = _t.Match(Vs.CardiogenicShock, code);
        if (hfref is null && cardiomyopathy is null && af is null && !primary && mechanism is null && shock is null)
        {
            return null;
        }
        var (substrate, valueSet) = hfref is not null ? (hfref, Vs.HfrefConditions)
            : cardiomyopathy is not null ? (cardiomyopathy, Vs.CardiomyopathyConditions)
            : shock is not null ? (shock, Vs.CardiogenicShock)
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
        return new ActiveCondition(new ConditionFinding(name, r.Key), hfref is not null, cardiomyopathy is not null, af is not null, primary, mechanism,
            shock is not null, r.Json.RecordedDate("onsetDateTime"u8) ?? r.Json.RecordedDate("recordedDate"u8));
    }

    private static string? FirstCode(JsonElement? concept)
    {
        foreach (var coding in concept?.Objects("coding"u8) ?? default)
        {
            return coding.Text("code"u8);
        }
        return null;
    }

    private static Mechanism ResolveMechanism(List<MechanismStatement> fromObservations,
        List<ActiveCondition> conditions, Measurement? lvef,
        List<ConditionFinding> hfref, List<ConditionFinding> cardiomyopathy, List<ConditionFinding> af)
    {
        // An active diagnosis speaks of now: it stands beside the newest echo statements (conditions are sorted by source).
        var recorded = new List<MechanismStatement>(fromObservations);
        foreach (var condition in conditions)
        {
            if (condition.PrimaryMr)
            {
                recorded.Add(new MechanismStatement(MechanismKind.Primary, null, condition.Finding.Source, null));
            }
            else if (condition.Mechanism is { } coding)
            {
                recorded.Add(new MechanismStatement(MechanismFromCode(coding.Code), SubtypeFromCode(coding.Code), condition.Finding.Source, null));
            }
        }
        var sources = recorded.Select(r => r.Source).ToList();
        var kinds = recorded.Select(r => r.Kind).Distinct().ToList();
        var subtypes = recorded.Select(r => r.Subtype).OfType<string>().Distinct().ToList();
        if (kinds.Count > 1 || subtypes.Count > 1)
        {
            var dated = recorded.Where(r => r.Date is not null).Select(r => r.Date!.Value).ToList();
            var when = dated.Count == recorded.Count && dated.Count > 0 ? $" on {FhirDate.Format(dated[0].Value)}" : "";
            var groups = recorded.GroupBy(r => (r.Kind, r.Words)).OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.Words, StringComparer.Ordinal)
                .Select(g => $"as {g.Key.Words} ({string.Join(", ", g.Select(r => r.Source))})");
            return new Mechanism(MechanismKind.Conflicting, null, false, $"recorded {JoinWords(groups.ToList())}{when}", sources);
        }
        if (kinds.Count == 1)
        {
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
            $"mechanism not recorded and not presumable (no LVEF below {Thresholds.ReducedEfBelow.Text("%")} and no HFrEF, cardiomyopathy or atrial fibrillation on record)", []);
    }

    private static string JoinWords(List<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
}
