using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsMitral.Fhir;

// A deliberately small FHIR R4 subset: only the elements the service reads or writes.
// Unknown elements are ignored on read; choice types ([x]) are the separate JSON names FHIR uses on the wire.
// Dates stay strings so that a partial or odd date never makes a whole resource unreadable.

public sealed record Coding(string? System = null, string? Code = null, string? Display = null);

public sealed record CodeableConcept(List<Coding>? Coding = null, string? Text = null)
{
    public static CodeableConcept Of(string system, string code, string? display = null) =>
        new([new Coding(system, code, display)], display);
}

public sealed record Reference([property: JsonPropertyName("reference")] string? Value = null, string? Display = null);

public sealed record Quantity(decimal? Value = null, string? Unit = null, string? System = null, string? Code = null);

public sealed record Period(string? Start = null, string? End = null);

public sealed record BundleLink(string? Relation = null, string? Url = null);

public sealed record BundleEntry(string? FullUrl = null, JsonElement? Resource = null);

public sealed record Bundle(string? Type = null, int? Total = null, List<BundleLink>? Link = null, List<BundleEntry>? Entry = null)
{
    public string ResourceType { get; init; } = "Bundle";
}

public sealed record ObservationComponent(
    CodeableConcept? Code = null,
    Quantity? ValueQuantity = null,
    CodeableConcept? ValueCodeableConcept = null,
    int? ValueInteger = null,
    string? ValueString = null);

public sealed record Observation(
    string? Id = null,
    string? Status = null,
    CodeableConcept? Code = null,
    Reference? Subject = null,
    string? EffectiveDateTime = null,
    Period? EffectivePeriod = null,
    string? EffectiveInstant = null,
    string? Issued = null,
    Quantity? ValueQuantity = null,
    CodeableConcept? ValueCodeableConcept = null,
    int? ValueInteger = null,
    string? ValueString = null,
    CodeableConcept? DataAbsentReason = null,
    List<ObservationComponent>? Component = null);

public sealed record MedicationIngredient(CodeableConcept? ItemCodeableConcept = null);

public sealed record Medication(string? Id = null, CodeableConcept? Code = null, List<MedicationIngredient>? Ingredient = null);

public sealed record MedicationStatement(
    string? Id = null,
    string? Status = null,
    CodeableConcept? MedicationCodeableConcept = null,
    Reference? MedicationReference = null,
    Reference? Subject = null,
    string? EffectiveDateTime = null,
    Period? EffectivePeriod = null,
    string? DateAsserted = null,
    List<JsonElement>? Contained = null);

public sealed record MedicationRequest(
    string? Id = null,
    string? Status = null,
    string? Intent = null,
    CodeableConcept? MedicationCodeableConcept = null,
    Reference? MedicationReference = null,
    Reference? Subject = null,
    string? AuthoredOn = null,
    List<JsonElement>? Contained = null);

public sealed record Condition(
    string? Id = null,
    CodeableConcept? ClinicalStatus = null,
    CodeableConcept? VerificationStatus = null,
    CodeableConcept? Code = null,
    Reference? Subject = null,
    string? OnsetDateTime = null,
    string? RecordedDate = null);

public sealed record Procedure(
    string? Id = null,
    string? Status = null,
    CodeableConcept? Code = null,
    Reference? Subject = null,
    string? PerformedDateTime = null,
    Period? PerformedPeriod = null);

public sealed record ServiceRequest(
    string? Id = null,
    string? Status = null,
    string? Intent = null,
    List<CodeableConcept>? Category = null,
    CodeableConcept? Code = null,
    Reference? Subject = null)
{
    public string ResourceType { get; init; } = "ServiceRequest";
}

public sealed record Extension(string? Url = null, decimal? ValueDecimal = null, int? ValueInteger = null, string? ValueString = null, string? ValueCode = null);

public sealed record ValueSetConcept(string Code, string? Display = null, List<Extension>? Extension = null);

public sealed record ValueSetInclude(string? System = null, List<ValueSetConcept>? Concept = null);

public sealed record ValueSetCompose(List<ValueSetInclude> Include);

public sealed record ValueSet(string Url, string? Name = null, string? Title = null, string? Version = null, ValueSetCompose? Compose = null);

public sealed record OperationOutcomeIssue(
    string Severity,
    string Code,
    CodeableConcept? Details = null,
    string? Diagnostics = null,
    List<string>? Expression = null);

public sealed record OperationOutcome(List<OperationOutcomeIssue> Issue)
{
    public string ResourceType { get; init; } = "OperationOutcome";

    public static OperationOutcome Error(string code, string text, string? diagnostics = null, string? expression = null) =>
        new([new OperationOutcomeIssue("error", code, new CodeableConcept(Text: text), diagnostics,
            expression is null ? null : [expression])]);
}
