using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using CdsMitral.Fhir;

namespace CdsMitral.Terminology;

/// <summary>The ValueSets in fhir-profiles/, embedded at build time. The rules take every code from here.</summary>
public sealed class Terminology
{
    public const string Base = "https://fhir.cdsmitral.org";
    public const string MechanismSystem = Base + "/CodeSystem/mr-mechanism";
    public const string OverrideReasonSystem = Base + "/CodeSystem/override-reason";
    private const string OrdinalExtension = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

    private readonly FrozenDictionary<string, FrozenDictionary<(string System, string Code), ValueSetConcept>> _sets;

    /// <summary>Every code system the ValueSets name, and their OID aliases: a coding in any other system cannot match, and
    /// is not read further.</summary>
    public FhirRead.KnownStrings Systems { get; }

    /// <summary>The OIDs of the code systems the ValueSets use, as converted C-CDA data names them (HL7 terminology,
    /// "urn:oid:" form): a coding in one of these is read as the canonical system (decision 1 of 2026-11-28).</summary>
    public static readonly IReadOnlyDictionary<string, string> SystemAliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["urn:oid:2.16.840.1.113883.6.88"] = "http://www.nlm.nih.gov/research/umls/rxnorm",
        ["urn:oid:2.16.840.1.113883.6.1"] = "http://loinc.org",
        ["urn:oid:2.16.840.1.113883.6.96"] = "http://snomed.info/sct",
        ["urn:oid:2.16.840.1.113883.6.90"] = "http://hl7.org/fhir/sid/icd-10-cm",
        ["urn:oid:2.16.840.1.113883.6.12"] = "http://www.ama-assn.org/go/cpt",
        ["urn:oid:2.16.840.1.113883.6.4"] = "http://www.cms.gov/Medicare/Coding/ICD10",
    };

    /// <summary>The canonical URI of a code system, for an OID alias; the system itself otherwise.</summary>
    public static string Canonical(string system) => SystemAliases.TryGetValue(system, out var canonical) ? canonical : system;

    public Terminology(IEnumerable<ValueSet> valueSets)
    {
        _sets = valueSets.ToFrozenDictionary(
            vs => vs.Url[(vs.Url.LastIndexOf('/') + 1)..],
            vs => (vs.Compose?.Include ?? [])
                .Where(include => include.System is not null) // includes of other ValueSets (profile bindings) are not expanded
                .SelectMany(include => (include.Concept ?? []).Select(c => (Key: (include.System!, c.Code), Concept: c)))
                .ToFrozenDictionary(x => x.Key, x => x.Concept));
        Systems = new FhirRead.KnownStrings(_sets.Values.SelectMany(set => set.Keys.Select(k => k.System)).Concat(SystemAliases.Keys));
        _codes = _sets.Values.SelectMany(set => set.Keys.Select(k => k.Code)).ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Every code any ValueSet holds, looked up by characters: a coding's code is compared without making a string
    /// of it (each observation and medication is matched against several ValueSets).</summary>
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _codes;

    public static Terminology Embedded { get; } = LoadEmbedded();

    public IEnumerable<string> ValueSetIds => _sets.Keys;

    public IEnumerable<(string System, string Code)> Codes(string valueSetId) => Set(valueSetId).Keys;

    public bool Contains(string valueSetId, string? system, string? code) =>
        system is not null && code is not null && Set(valueSetId).ContainsKey((system, code));

    /// <summary>The first coding of <paramref name="concept"/> that is in the ValueSet, if any.</summary>
    public Coding? Match(string valueSetId, CodeableConcept? concept)
    {
        if (concept?.Coding is null)
        {
            return null;
        }
        var set = Set(valueSetId);
        foreach (var coding in concept.Coding)
        {
            if (coding.System is not null && coding.Code is not null && set.ContainsKey((Canonical(coding.System), coding.Code)))
            {
                return coding with { System = Canonical(coding.System) };
            }
        }
        return null;
    }

    public bool Matches(string valueSetId, CodeableConcept? concept) => Match(valueSetId, concept) is not null;

    public decimal? Ordinal(string valueSetId, CodeableConcept? concept) => Ordinal(valueSetId, Match(valueSetId, concept));

    /// <summary>The first coding of a CodeableConcept, read in place from JSON, that is in the ValueSet, if any.</summary>
    /// <exception cref="FhirShapeException">The concept or one of its codings is not shaped as FHIR R4.</exception>
    public Coding? Match(string valueSetId, JsonElement? concept) =>
        concept is { } c && Find(Set(valueSetId), c, tableFromValueSets: true) is { } coding
            ? new Coding(coding.System, coding.Code, coding.Json.Text("display"u8))
            : null;

    /// <summary>The code of the first coding in the ValueSet, without reading its display.</summary>
    internal string? MatchCode(string valueSetId, JsonElement? concept) =>
        concept is { } c && Find(Set(valueSetId), c, tableFromValueSets: true) is { } coding ? coding.Code : null;

    /// <inheritdoc cref="Match(string, JsonElement?)"/>
    public bool Matches(string valueSetId, JsonElement? concept) => concept is { } c && Find(Set(valueSetId), c, tableFromValueSets: true) is not null;

    /// <inheritdoc cref="Match(string, JsonElement?)"/>
    public decimal? Ordinal(string valueSetId, JsonElement? concept) => Ordinal(valueSetId, Match(valueSetId, concept));

    /// <summary>The first coding of <paramref name="concept"/> whose (system, code) is a key of <paramref name="table"/>.</summary>
    public (string System, string Code, JsonElement Json)? Find<T>(IReadOnlyDictionary<(string System, string Code), T> table, JsonElement concept) =>
        Find(table, concept, tableFromValueSets: false);

    /// <param name="tableFromValueSets">Every code of <paramref name="table"/> is in a ValueSet: a code in none of them
    /// cannot match, and is not read as a string.</param>
    internal (string System, string Code, JsonElement Json)? Find<T>(IReadOnlyDictionary<(string System, string Code), T> table, JsonElement concept, bool tableFromValueSets)
    {
        foreach (var coding in concept.Objects("coding"u8))
        {
            if (coding.OneOf("system"u8, Systems) is { } known && Code(coding, tableFromValueSets) is { } code
                && Canonical(known) is var system && table.ContainsKey((system, code)))
            {
                return (system, code, coding);
            }
        }
        return null;
    }

    /// <summary>A coding's code: the ValueSets' own instance when one of them holds it (nothing allocated), else the code
    /// read as a string, or null with <paramref name="knownOnly"/>. Absent or null is null; another JSON type throws, as
    /// <see cref="FhirRead.Text"/> does.</summary>
    private string? Code(JsonElement coding, bool knownOnly)
    {
        if (!coding.TryGetProperty("code"u8, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            return coding.Text("code"u8); // throws the shape error
        }
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value); // with its quotes
        if (raw.Length <= 130 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[raw.Length];
            var length = System.Text.Encoding.UTF8.GetChars(raw[1..^1], chars);
            if (_codes.TryGetValue(chars[..length], out var known))
            {
                return known;
            }
            if (knownOnly)
            {
                return null;
            }
        }
        var code = value.GetString();
        return code is not null && _codes.TryGetValue(code, out var instance) ? instance : knownOnly ? null : code;
    }

    private decimal? Ordinal(string valueSetId, Coding? coding) =>
        coding is null
            ? null
            : Set(valueSetId)[(coding.System!, coding.Code!)].Extension?.FirstOrDefault(e => e.Url == OrdinalExtension)?.ValueDecimal;

    public string? Display(string valueSetId, Coding coding) =>
        coding.System is not null && coding.Code is not null && Set(valueSetId).TryGetValue((coding.System, coding.Code), out var c)
            ? c.Display
            : null;

    private FrozenDictionary<(string System, string Code), ValueSetConcept> Set(string id) =>
        _sets.TryGetValue(id, out var set) ? set : throw new KeyNotFoundException($"ValueSet '{id}' is not in fhir-profiles/.");

    private static Terminology LoadEmbedded()
    {
        var assembly = typeof(Terminology).Assembly;
        var sets = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("fhir-profiles/ValueSet-", StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                return System.Text.Json.JsonSerializer.Deserialize(stream, FhirJson.Default.ValueSet)
                    ?? throw new InvalidDataException($"{n} is not a ValueSet.");
            })
            .ToList();
        return new Terminology(sets);
    }
}

/// <summary>Ids of the ValueSets the rules use (file names in fhir-profiles/ without the ValueSet- prefix).</summary>
public static class Vs
{
    public const string Lvef = "lvef";
    public const string LvefMethodSpecific = "lvef-method-specific";
    public const string LvefUnspecifiedMethod = "lvef-unspecified-method";
    public const string Lvesd = "lvesd";
    public const string Pasp = "pasp";
    public const string MrAssessment = "mr-assessment";
    public const string MrSeverity = "mr-severity";
    public const string MrMechanism = "mr-mechanism";
    public const string PrimaryMrDisorders = "primary-mr-disorders";
    public const string Eroa = "mr-eroa";
    public const string RegurgitantVolume = "mr-regurgitant-volume";
    public const string RegurgitantFraction = "mr-regurgitant-fraction";
    public const string Lvedv = "lvedv";
    public const string NyhaAssessment = "nyha-assessment";
    public const string NyhaClass = "nyha-class";
    public const string HfrefConditions = "hfref-conditions";
    public const string CardiomyopathyConditions = "cardiomyopathy-conditions";
    public const string AtrialFibrillationConditions = "atrial-fibrillation-conditions";
    public const string TeerProcedures = "teer-procedures";
    public const string MitralSurgicalRepair = "mitral-surgical-repair";
    public const string MitralReplacement = "mitral-replacement";
    public const string SurgicalProcedureCategory = "surgical-procedure-category";
    public const string GdmtBetaBlocker = "gdmt-beta-blocker";
    public const string GdmtRaasInhibitor = "gdmt-raas-inhibitor";
    public const string GdmtMra = "gdmt-mra";
    public const string GdmtSglt2Inhibitor = "gdmt-sglt2-inhibitor";
    public const string MetoprololUnspecifiedSalt = "metoprolol-unspecified-salt";
    public const string NonSteroidalMra = "non-steroidal-mra";
    public const string CardiogenicShock = "cardiogenic-shock";
    public const string MechanicalCirculatorySupport = "mechanical-circulatory-support";
    public const string CabgProcedures = "cabg-procedures";
    public const string CardOverrideReasons = "card-override-reasons";

    public static IEnumerable<string> All =>
        typeof(Vs).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);
}
