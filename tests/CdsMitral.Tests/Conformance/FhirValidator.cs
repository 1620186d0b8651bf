using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace CdsMitral.Tests.Conformance;

/// <summary>One issue the reference validator (or the strict FHIR JSON parser before it) reports.</summary>
public sealed record FhirIssue(string Severity, string Location, string Message)
{
    public override string ToString() => $"{Severity} at {Location}: {Message}";
}

/// <summary>
/// The Firely reference validator loaded once (reading the R4 specification zip takes seconds), with the project's
/// own StructureDefinitions, ValueSets and CodeSystems from fhir-profiles/ in its resolver.
///
/// Terminology: codes are checked by Firely's local terminology service, which knows the FHIR core code systems and the
/// project's own ValueSets and CodeSystems. LOINC, SNOMED CT, RxNorm, ICD-10-CM and CPT cannot be looked up offline;
/// when a binding needs such a lookup the validator reports a warning, never an error, and only errors fail a test.
/// A code outside a project ValueSet whose members are listed in full (a required binding) is still an error.
/// Everything structural — JSON syntax, cardinality, types, invariants, fixed values, profile constraints — is an error.
/// </summary>
public sealed class FhirValidator
{
    private readonly Validator _validator;
    private readonly FhirJsonDeserializer _parser = new(new DeserializerSettings());
    private readonly Dictionary<string, HashSet<string>> _valueSetMembers = [];

    public FhirValidator()
    {
        var own = Directory.GetFiles(Path.Combine(Repo.Root, "fhir-profiles"), "*.json").Order()
            .Select(f => Parse(File.ReadAllText(f)).Resource ?? throw new InvalidDataException($"{f} is not a FHIR resource"))
            .ToList();
        foreach (var vs in own.OfType<ValueSet>())
        {
            _valueSetMembers[vs.Url!] = [.. vs.Compose!.Include.SelectMany(i => i.Concept.Select(c => $"{i.System}|{c.Code}"))];
        }
        foreach (var vs in own.OfType<ValueSet>())
        {
            foreach (var nested in vs.Compose!.Include.SelectMany(i => i.ValueSet))
            {
                _valueSetMembers[vs.Url!].UnionWith(_valueSetMembers.GetValueOrDefault(nested!) ?? []);
            }
        }
        Profiles = own.OfType<StructureDefinition>().Where(sd => sd.Type != "Extension").ToList();
        var resolver = new CachedResolver(new SnapshotSource(new MultiResolver(new InMemoryResourceResolver(own), ZipSource.CreateValidationSource())));
        // US Core and other IGs a vendor chart declares in meta.profile are not on this machine: such a declaration is
        // not followed (core R4 and the project profile still apply); core and project profiles in meta.profile are.
        var settings = new ValidationSettings
        {
            SelectValidationProfiles = (_, declared, _, _) => [.. declared.Where(p => p.ToString().StartsWith("http://hl7.org/fhir/StructureDefinition/", StringComparison.Ordinal)
                || p.ToString().StartsWith("https://fhir.cdsmitral.org/", StringComparison.Ordinal))],
        };
        _validator = new Validator(resolver.AsAsync(), LocalTerminologyService.CreateDefaultForCore(resolver.AsAsync()), null, settings);
    }

    public IReadOnlyList<StructureDefinition> Profiles { get; }

    /// <summary>The project profile that applies to a resource: an Observation whose code is in the profile's
    /// required ValueSet, a medication order or statement coded from the GDMT ValueSet.</summary>
    public string? ProfileFor(Resource resource)
    {
        var codes = resource switch
        {
            Observation o => o.Code?.Coding ?? [],
            MedicationRequest m => (m.Medication as CodeableConcept)?.Coding ?? [],
            MedicationStatement m => (m.Medication as CodeableConcept)?.Coding ?? [],
            _ => [],
        };
        foreach (var profile in Profiles.Where(p => p.Type == resource.TypeName))
        {
            var binding = profile.Differential!.Element.FirstOrDefault(e => e.Path is "Observation.code" or "MedicationRequest.medication[x]" or "MedicationStatement.medication[x]")?.Binding?.ValueSet;
            if (binding is not null && _valueSetMembers.TryGetValue(binding, out var members) && codes.Any(c => members.Contains($"{c.System}|{c.Code}")))
            {
                return profile.Url;
            }
        }
        return null;
    }

    public (Resource? Resource, IReadOnlyList<FhirIssue> Issues) Parse(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        var ok = _parser.TryDeserializeResource(ref reader, out var resource, out var errors);
        var issues = ok ? [] : errors.Select(e => new FhirIssue("error", "(JSON)", e.Message)).ToList();
        return (resource, issues);
    }

    /// <summary>Every issue of a JSON resource: strict parsing first, then core R4 and the given (or applicable) profile.</summary>
    public IReadOnlyList<FhirIssue> Validate(JsonNode json, string? profile = null) => Validate(json.ToJsonString(), profile);

    public IReadOnlyList<FhirIssue> Validate(string json, string? profile = null)
    {
        var (resource, issues) = Parse(json);
        if (resource is null)
        {
            return issues.Count > 0 ? issues : [new FhirIssue("error", "(JSON)", "not a FHIR resource")];
        }
        var outcome = _validator.Validate(resource, profile ?? ProfileFor(resource) ?? $"http://hl7.org/fhir/StructureDefinition/{resource.TypeName}");
        return [.. issues, .. outcome.Issue.Select(i => new FhirIssue(
            i.Severity?.ToString().ToLowerInvariant() ?? "?",
            string.Join(", ", i.Expression.Concat(i.Location).Distinct()),
            i.Details?.Text ?? i.Diagnostics ?? i.Code?.ToString() ?? ""))];
    }

    public static IReadOnlyList<FhirIssue> Errors(IEnumerable<FhirIssue> issues) =>
        issues.Where(i => i.Severity is "error" or "fatal").ToList();

    /// <summary>A failure message naming every error with its location, so that a red run says what to fix.</summary>
    public static string Describe(string what, IReadOnlyList<FhirIssue> errors) =>
        $"{what}: {errors.Count} error(s)\n  " + string.Join("\n  ", errors);
}
