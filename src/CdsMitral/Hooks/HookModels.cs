using System.Text.Json;
using System.Text.Json.Serialization;
using CdsMitral.Fhir;

namespace CdsMitral.Hooks;

// CDS Hooks 2.0 wire shapes. Optional members are null, never empty: the JSON context omits nulls, and
// builders turn empty lists into null, because the spec forbids "", [] and {} for optional fields.

/// <summary>The request body as sent. Every member is nullable so that validation, not the parser, names what is missing.</summary>
public sealed record HookRequest(
    string? Hook = null,
    string? HookInstance = null,
    string? FhirServer = null,
    FhirAuthorization? FhirAuthorization = null,
    JsonElement? Context = null,
    [property: JsonIgnore] Dictionary<string, JsonElement>? Prefetch = null)
{
    // A request carries patient data and an access token: never let a log line print it whole.
    public override string ToString() => $"HookRequest {{ Hook = {Hook}, HookInstance = {HookInstance} }}";
}

public sealed record FhirAuthorization(
    [property: JsonPropertyName("access_token")] string? AccessToken = null,
    [property: JsonPropertyName("token_type")] string? TokenType = null,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn = null,
    string? Scope = null,
    string? Subject = null,
    string? Patient = null)
{
    public override string ToString() => "FhirAuthorization { access_token = (redacted) }";
}

public sealed record CdsResponse(IReadOnlyList<Card> Cards);

public sealed record Card(
    string Uuid,
    string Summary,
    string Indicator,
    CardSource Source,
    string? Detail = null,
    IReadOnlyList<Suggestion>? Suggestions = null,
    string? SelectionBehavior = null,
    IReadOnlyList<Coding>? OverrideReasons = null,
    IReadOnlyList<Link>? Links = null);

public sealed record CardSource(string Label, string? Url = null, string? Icon = null, Coding? Topic = null);

public sealed record Suggestion(string Label, string Uuid, bool? IsRecommended = null, IReadOnlyList<CdsAction>? Actions = null);

public sealed record CdsAction(string Type, string Description, ServiceRequest? Resource = null);

/// <param name="AppContext">For a <c>smart</c> link: what the EHR passes to the app at launch.</param>
public sealed record Link(string Label, string Url, string Type, string? AppContext = null);

public sealed record DiscoveryResponse(IReadOnlyList<ServiceDescriptor> Services);

public sealed record ServiceDescriptor(
    string Hook,
    string Title,
    string Description,
    string Id,
    IReadOnlyDictionary<string, string>? Prefetch = null,
    string? UsageRequirements = null);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(HookRequest))]
[JsonSerializable(typeof(CdsResponse))]
[JsonSerializable(typeof(DiscoveryResponse))]
[JsonSerializable(typeof(OperationOutcome))]
public sealed partial class HookJson : JsonSerializerContext;
