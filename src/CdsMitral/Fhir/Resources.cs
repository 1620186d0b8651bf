using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsMitral.Fhir;

// A deliberately small FHIR R4 subset: the resources the service writes (suggestions, OperationOutcomes), reads from its
// own ValueSets, or reads rarely (draft orders). The patient's chart is read in place from JSON (FhirRead), not typed.
// Unknown elements are ignored on read; choice types ([x]) are the separate JSON names FHIR uses on the wire.

public sealed record Coding(string? System = null, string? Code = null, string? Display = null);

public sealed record CodeableConcept(List<Coding>? Coding = null, string? Text = null)
{
    public static CodeableConcept Of(string system, string code, string? display = null) =>
        new([new Coding(system, code, display)], display);
}

public sealed record Reference([property: JsonPropertyName("reference")] string? Value = null, string? Display = null);

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
