using System.Text.Json.Serialization;

namespace CdsMitral.Snapshot;

/// <summary>Everything the service gathered for one patient: resources from prefetch and FHIR queries, and what could not be had.</summary>
/// <param name="Unavailable">Optional categories (e.g. "conditions") that could not be obtained; the cards say so.</param>
/// <param name="Notes">Facts about the gathering a reader should know, e.g. a search cut at the paging cap.</param>
public sealed record PatientRecord(
    string PatientId,
    IReadOnlyList<Fhir.RawResource> Resources,
    IReadOnlyList<string> Unavailable,
    IReadOnlyList<string> Notes);

public sealed record ClinicalOptions(int StaleAfterMonths = 12);

// Computed members are [JsonIgnore]: the audit trail keeps each fact once, and they are rebuilt when a record is read.

/// <summary>A value the rules may use, with where it came from. <paramref name="Comparator"/> (&lt;, &lt;=, &gt;=, &gt;) makes
/// the value an interval, not a number, and so does <paramref name="High"/>: a valueRange from <paramref name="Value"/> to
/// High, both included (decision 17 of 2026-12-07). <paramref name="Precision"/> is how much of the date was recorded.</summary>
public sealed record Measurement(string Name, decimal Value, string Unit, DateTimeOffset Date, string Source, bool IsStale,
    string? Comparator = null, Fhir.DatePrecision Precision = Fhir.DatePrecision.Day, decimal? High = null)
{
    /// <summary>The value as recorded, with its comparator or as a range: "32 %", "&lt;20 %", "35–40 %".</summary>
    [JsonIgnore]
    public string Display => $"{Comparator}{Number(Value)}{(High is { } high ? $"–{Number(high)}" : "")}{(Unit.Length == 0 ? "" : " ")}{Unit}";

    private static string Number(decimal value) => value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A number the rules can compare, not an interval.</summary>
    [JsonIgnore]
    public bool IsExact => Comparator is null && High is null;
    [JsonIgnore]
    public string DateText => Fhir.FhirDate.Format(Date, Precision);

    [JsonIgnore]
    public bool IsCurrent => !IsStale;
}

/// <summary>A value that was on record but not used, and why. <paramref name="Brief"/> is the reason in a few words for a
/// card's summary ("implausible (120 %)", "conflicting on 2026-10-01"; decision 23 of 2026-12-07).</summary>
public sealed record DataQualityFinding(string Measure, string Source, string Problem, string? Brief = null);

/// <param name="ConflictsWith">Other assessments of the same date with another grade that cannot be ordered in time: the
/// grade is then the highest of them, and the severity cannot be judged (decision 6 of 2026-11-28).</param>
public sealed record MrSeverity(decimal Grade, string Label, DateTimeOffset Date, string Source, bool IsStale,
    Fhir.DatePrecision Precision = Fhir.DatePrecision.Day, IReadOnlyList<string>? ConflictsWith = null)
{
    /// <summary>"Significant MR" in clinical-logic.md: moderate-severe (3+) or severe (4+).</summary>
    [JsonIgnore]
    public bool IsSignificant => Grade >= Clinical.Thresholds.SignificantMrGrade;

    [JsonIgnore]
    public bool IsConflicting => ConflictsWith is { Count: > 0 };

    [JsonIgnore]
    public string DateText => Fhir.FhirDate.Format(Date, Precision);
}

public enum MechanismKind { Unknown, Primary, Secondary, Conflicting }

/// <param name="Presumed">True when the mechanism was not recorded and was presumed secondary from LVEF or conditions.</param>
/// <param name="Basis">Plain words: where the mechanism comes from, for the card detail.</param>
public sealed record Mechanism(MechanismKind Kind, string? Subtype, bool Presumed, string Basis, IReadOnlyList<string> Sources)
{
    [JsonIgnore]
    public bool IsSecondary => Kind == MechanismKind.Secondary;

    [JsonIgnore]
    public string Label => Kind switch
    {
        MechanismKind.Secondary when Presumed => "secondary (presumed)",
        MechanismKind.Secondary when Subtype is not null => $"secondary ({Subtype})",
        MechanismKind.Secondary => "secondary",
        MechanismKind.Primary => "primary",
        MechanismKind.Conflicting => "recorded inconsistently",
        _ => "not recorded",
    };
}

public enum GdmtClass { BetaBlocker, RaasInhibitor, Mra, Sglt2Inhibitor }

/// <param name="Note">Why a medication on record does not count as taken ("planned", "proposed", "do not give"), or why it
/// could not be classified ("no code", "code not recognised", "reference not resolved").</param>
public sealed record MedicationUse(string Name, string Source, string? Note = null);

/// <param name="ByClass">Medications on board (decision 4 of 2026-11-28), by GDMT class.</param>
/// <param name="Unrecognised">Medications on board that no ValueSet classifies: an absence is then only an absence of a
/// <em>recognised</em> drug (decision 2).</param>
/// <param name="NotOnBoard">GDMT medications on record that do not count as taken: plans, proposals, do-not-perform.</param>
/// <param name="NotPillar">Medications on board that are recognised and are not a pillar: finerenone, a non-steroidal MRA
/// (decision 24 of 2026-12-07).</param>
public sealed record GdmtStatus(
    IReadOnlyDictionary<GdmtClass, IReadOnlyList<MedicationUse>> ByClass,
    IReadOnlyList<MedicationUse> AmbiguousBetaBlocker,
    IReadOnlyList<MedicationUse> Unrecognised,
    IReadOnlyList<MedicationUse> NotOnBoard,
    IReadOnlyList<MedicationUse>? NotPillar = null)
{
    [JsonIgnore]
    public IReadOnlyList<MedicationUse> NonSteroidalMra => NotPillar ?? [];

    [JsonIgnore]
    public IReadOnlyList<GdmtClass> Missing =>
        Enum.GetValues<GdmtClass>().Where(c => !ByClass.TryGetValue(c, out var uses) || uses.Count == 0).ToList();

    /// <summary>The class as a summary short of room names it: "beta-blocker", "ARNI/ACEi/ARB", "MRA", "SGLT2i".</summary>
    public static string ShortName(GdmtClass c) => c switch
    {
        GdmtClass.BetaBlocker => "beta-blocker",
        GdmtClass.RaasInhibitor => "ARNI/ACEi/ARB",
        GdmtClass.Mra => "MRA",
        _ => "SGLT2i",
    };

    public static string Name(GdmtClass c) => c switch
    {
        GdmtClass.BetaBlocker => "evidence-based beta-blocker",
        GdmtClass.RaasInhibitor => "ARNI/ACEi/ARB",
        GdmtClass.Mra => "MRA",
        _ => "SGLT2 inhibitor",
    };
}

public enum MitralProcedureKind { Teer, SurgicalRepair, Replacement }

public sealed record MitralProcedure(MitralProcedureKind Kind, string Name, DateTimeOffset? Date, string Source,
    Fhir.DatePrecision Precision = Fhir.DatePrecision.Day)
{
    [JsonIgnore]
    public string DateText => Date is { } d ? Fhir.FhirDate.Format(d, Precision) : "date not recorded";
}

public sealed record ConditionFinding(string Name, string Source);

/// <summary>What the Patient resource says that decides whether any card applies (decision 18 of 2026-12-07): deceased
/// (deceasedBoolean true, or a deceasedDateTime), and the birth date with the precision recorded.</summary>
public sealed record PatientFacts(string Source, bool Deceased, DateTimeOffset? DeceasedOn, DateTimeOffset? BirthDate,
    Fhir.DatePrecision BirthPrecision = Fhir.DatePrecision.Day, Fhir.DatePrecision DeceasedPrecision = Fhir.DatePrecision.Day)
{
    /// <summary>The age in whole years on <paramref name="day"/>; for a partial birth date ("1950", "2010-05") the largest age
    /// the record allows, so that a patient is under an age only when they certainly are.</summary>
    public int? AgeOn(DateTimeOffset day)
    {
        if (BirthDate is not { } born)
        {
            return null;
        }
        var (b, d) = (DateOnly.FromDateTime(born.DateTime), DateOnly.FromDateTime(day.DateTime));
        var age = d.Year - b.Year;
        return d < b.AddYears(age) ? age - 1 : age;
    }

    [JsonIgnore]
    public string BirthText => BirthDate is { } b ? Fhir.FhirDate.Format(b, BirthPrecision) : "not recorded";
}

/// <summary>A sign of the acute setting (decision 19 of 2026-12-07): an active, confirmed diagnosis of cardiogenic shock, or
/// temporary mechanical circulatory support (ECMO, intra-aortic balloon pump, percutaneous VAD) in progress.</summary>
/// <param name="Since">When the shock was noted (onset, else recorded) or the support started, as recorded; null when
/// the record gives no date.</param>
public sealed record AcuteFinding(string Name, string Source, bool Support, DateTimeOffset? Since = null, Fhir.DatePrecision Precision = Fhir.DatePrecision.Day)
{
    [JsonIgnore]
    public string? SinceText => Since is { } d ? Fhir.FhirDate.Format(d, Precision) : null;
}

public sealed record ClinicalSnapshot(
    DateTimeOffset AsOf,
    int StaleAfterMonths,
    Measurement? Lvef,
    Measurement? Lvesd,
    Measurement? Pasp,
    MrSeverity? Mr,
    Mechanism Mechanism,
    Measurement? Eroa,
    Measurement? RegurgitantVolume,
    Measurement? RegurgitantFraction,
    Measurement? Lvedv,
    Measurement? NyhaClass,
    GdmtStatus Gdmt,
    IReadOnlyList<ConditionFinding> HfrefConditions,
    IReadOnlyList<ConditionFinding> Cardiomyopathies,
    IReadOnlyList<ConditionFinding> AtrialFibrillation,
    IReadOnlyList<MitralProcedure> MitralProcedures,
    IReadOnlyList<DataQualityFinding> Findings,
    IReadOnlyList<string> Unavailable,
    IReadOnlyList<string> Notes,
    PatientFacts? Patient = null,
    IReadOnlyList<AcuteFinding>? Acute = null)
{
    /// <summary>Signs of the acute setting; none when the record shows none (and in records written before decision 19).</summary>
    [JsonIgnore]
    public IReadOnlyList<AcuteFinding> AcuteSetting => Acute ?? [];

    [JsonIgnore]
    public Measurement? CurrentLvef => Lvef is { IsCurrent: true } ? Lvef : null;
    [JsonIgnore]
    public Measurement? CurrentLvesd => Lvesd is { IsCurrent: true } ? Lvesd : null;
    [JsonIgnore]
    public Measurement? CurrentPasp => Pasp is { IsCurrent: true } ? Pasp : null;
    [JsonIgnore]
    public bool SignificantMr => Mr is { IsSignificant: true };
    [JsonIgnore]
    public bool SignificantSecondaryMr => SignificantMr && Mechanism.IsSecondary;
    [JsonIgnore]
    public MitralProcedure? PriorTeerOrRepair =>
        MitralProcedures.Where(p => p.Kind is MitralProcedureKind.Teer or MitralProcedureKind.SurgicalRepair)
            .OrderByDescending(p => p.Date ?? DateTimeOffset.MinValue).ThenBy(p => p.Source, StringComparer.Ordinal).FirstOrDefault();
}
