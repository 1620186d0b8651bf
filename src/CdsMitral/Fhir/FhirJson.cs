using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsMitral.Fhir;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(SkipNullsInLists)])]
[JsonSerializable(typeof(ServiceRequest))]
[JsonSerializable(typeof(OperationOutcome))]
[JsonSerializable(typeof(ValueSet))]
[JsonSerializable(typeof(CodeableConcept))]
public sealed partial class FhirJson : JsonSerializerContext;

/// <summary>A resource as it arrived (raw JSON) with its type and id read off the top level.</summary>
public readonly record struct RawResource(string ResourceType, string? Id, JsonElement Json)
{
    /// <summary>"Type/id", the form references and the audit use.</summary>
    public string Key { get; } = $"{ResourceType}/{Id}";

    private static readonly FhirRead.KnownStrings Types = new(
        ["Observation", "MedicationStatement", "MedicationRequest", "Medication", "Condition", "Procedure", "Patient", "Bundle", "OperationOutcome", "ServiceRequest"]);

    public static RawResource? From(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object
            || !json.TryGetProperty("resourceType"u8, out var type)
            || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }
        string? id = json.TryGetProperty("id"u8, out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? idElement.GetString()
            : null;
        return new RawResource(Types.Find(type) ?? type.GetString()!, id, json);
    }

    /// <summary>Reads the resource as <typeparamref name="T"/>; null when its shape is not R4 (e.g. an STU3 array as object).</summary>
    public T? As<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) where T : class
    {
        try
        {
            return Json.Deserialize(typeInfo);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
