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
public readonly record struct RawResource
{
    public RawResource(string resourceType, string? id, JsonElement json)
        : this(resourceType, json, id is null ? null : $"{resourceType}/{id}")
    {
    }

    // Only "Type/id" is kept, made once from the JSON: a chart's ~70 resources then cost one string each, not two.
    private RawResource(string resourceType, JsonElement json, string? key) => (ResourceType, Json, _key) = (resourceType, json, key);

    private readonly string? _key;

    public string ResourceType { get; }

    public JsonElement Json { get; }

    /// <summary>The id (made from <see cref="Key"/> when asked for); null when the resource has none.</summary>
    public string? Id => _key?[(ResourceType.Length + 1)..];

    public bool HasId => _key is not null;

    /// <summary>"Type/id", the form references and the audit use ("Type/" for a resource without an id).</summary>
    public string Key => _key ?? ResourceType + "/";

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
        var resourceType = Types.Find(type) ?? type.GetString()!;
        var key = json.TryGetProperty("id"u8, out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? KeyOf(resourceType, idElement)
            : null;
        return new RawResource(resourceType, json, key);
    }

    /// <summary>"Type/id" straight from the id's UTF-8, without the id as a string of its own.</summary>
    private static string KeyOf(string resourceType, JsonElement id)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(id); // with its quotes
        if (raw.Length + resourceType.Length > 256 || raw.IndexOf((byte)'\\') >= 0) // the stack holds short keys only
        {
            return $"{resourceType}/{id.GetString()}";
        }
        Span<char> chars = stackalloc char[resourceType.Length + 1 + raw.Length];
        resourceType.CopyTo(chars);
        chars[resourceType.Length] = '/';
        var length = System.Text.Encoding.UTF8.GetChars(raw[1..^1], chars[(resourceType.Length + 1)..]);
        return new string(chars[..(resourceType.Length + 1 + length)]);
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
