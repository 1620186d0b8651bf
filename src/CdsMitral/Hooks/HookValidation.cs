using System.Text.Json;
using System.Text.RegularExpressions;
using CdsMitral.Fhir;

namespace CdsMitral.Hooks;

/// <summary>The context of a valid request, typed. Selections are kept as "Type/id" strings.</summary>
public sealed record HookContext(
    string UserId,
    string PatientId,
    string? EncounterId,
    IReadOnlyList<string> Selections,
    JsonElement? DraftOrders);

public sealed record ValidationProblem(string Expression, string Message);

public static partial class HookValidation
{
    // FHIR id (R4 datatype "id") and the library's ord-1 "{type}/{id}" rule. Ids go into FHIR URLs, so they are checked strictly.
    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex FhirId();

    /// <summary>Whether the text is a FHIR id (R4 "id": 1–64 of A–Z, a–z, 0–9, '-', '.'), safe to put in a FHIR URL.</summary>
    public static bool IsFhirId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? text) => text is not null && FhirId().IsMatch(text);

    [GeneratedRegex(@"^[A-Za-z]+/[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex TypedReference();

    public static (HookContext? Context, IReadOnlyList<ValidationProblem> Problems) Validate(HookRequest request, ServiceDefinition service)
    {
        var problems = new List<ValidationProblem>();
        void Problem(string expression, string message) => problems.Add(new ValidationProblem(expression, message));

        if (string.IsNullOrWhiteSpace(request.Hook))
        {
            Problem("hook", "hook is required.");
        }
        else if (request.Hook != service.Hook)
        {
            Problem("hook", $"hook '{request.Hook}' does not match service '{service.Id}', which answers '{service.Hook}'.");
        }
        if (string.IsNullOrWhiteSpace(request.HookInstance))
        {
            Problem("hookInstance", "hookInstance is required.");
        }
        if (request.FhirServer is { } server
            && (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            Problem("fhirServer", "fhirServer must be an absolute http(s) base URL without query or fragment.");
        }
        if (request.FhirAuthorization is { } auth)
        {
            if (request.FhirServer is null)
            {
                Problem("fhirAuthorization", "fhirAuthorization was sent without fhirServer; CDS Hooks requires fhirServer with it (cds-r-1).");
            }
            if (string.IsNullOrWhiteSpace(auth.AccessToken))
            {
                Problem("fhirAuthorization.access_token", "fhirAuthorization.access_token is required.");
            }
            if (!string.Equals(auth.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                Problem("fhirAuthorization.token_type", "fhirAuthorization.token_type must be 'Bearer'.");
            }
        }

        HookContext? context = null;
        if (request.Context is not { ValueKind: JsonValueKind.Object } c)
        {
            Problem("context", "context is required and must be an object.");
        }
        else
        {
            var userId = String(c, "userId", required: true, problems);
            var patientId = String(c, "patientId", required: true, problems);
            var encounterId = String(c, "encounterId", required: false, problems);
            if (userId is not null && !TypedReference().IsMatch(userId))
            {
                Problem("context.userId", "context.userId must be a reference such as 'Practitioner/123'.");
            }
            if (patientId is not null && !FhirId().IsMatch(patientId))
            {
                Problem("context.patientId", "context.patientId must be a FHIR id (letters, digits, '-' and '.', at most 64).");
            }
            if (encounterId is not null && !FhirId().IsMatch(encounterId))
            {
                Problem("context.encounterId", "context.encounterId must be a FHIR id.");
            }
            // order-select names the orders it is about; order-sign is about every draft order, and has no selections.
            var (selections, draftOrders) = service.Hook switch
            {
                Hook.OrderSelect => OrderContext(c, problems, withSelections: true),
                Hook.OrderSign => OrderContext(c, problems, withSelections: false),
                _ => ([], null),
            };
            if (problems.Count == 0)
            {
                context = new HookContext(userId!, patientId!, encounterId, selections, draftOrders);
            }
        }
        return (problems.Count == 0 ? context : null, problems);
    }

    private static (List<string> Selections, JsonElement? DraftOrders) OrderContext(JsonElement c, List<ValidationProblem> problems, bool withSelections)
    {
        var selections = new List<string>();
        if (!withSelections)
        {
            // Nothing to read: order-sign's context has no selections (one sent anyway is ignored).
        }
        else if (!c.TryGetProperty("selections", out var s) || s.ValueKind != JsonValueKind.Array || s.GetArrayLength() == 0)
        {
            problems.Add(new("context.selections", "context.selections is required: a non-empty array of 'Type/id' strings."));
        }
        else
        {
            foreach (var item in s.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || !TypedReference().IsMatch(item.GetString()!))
                {
                    problems.Add(new("context.selections", "each entry of context.selections must be a 'Type/id' string."));
                    break;
                }
                selections.Add(item.GetString()!);
            }
        }
        // Real clients send draftOrders Bundles without "type" (the CDS Hooks Sandbox does): only the resourceType is insisted on.
        if (!c.TryGetProperty("draftOrders", out var d) || d.ValueKind != JsonValueKind.Object
            || !d.TryGetProperty("resourceType", out var rt) || rt.ValueKind != JsonValueKind.String || rt.GetString() != "Bundle")
        {
            problems.Add(new("context.draftOrders", "context.draftOrders is required: a FHIR Bundle of the draft orders."));
            return (selections, null);
        }
        if (d.TryGetProperty("entry", out var entry) && entry.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new("context.draftOrders.entry", "context.draftOrders.entry must be an array."));
        }
        return (selections, d);
    }

    private static string? String(JsonElement context, string name, bool required, List<ValidationProblem> problems)
    {
        if (!context.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                problems.Add(new($"context.{name}", $"context.{name} is required."));
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            problems.Add(new($"context.{name}", $"context.{name} must be a non-empty string."));
            return null;
        }
        return value.GetString();
    }

    public static OperationOutcome ToOperationOutcome(IEnumerable<ValidationProblem> problems) =>
        new(problems.Select(p => new OperationOutcomeIssue("error", "invalid", new CodeableConcept(Text: p.Message), Expression: [p.Expression])).ToList());
}
