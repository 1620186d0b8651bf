using System.Diagnostics;
using System.Text.Json;
using CdsMitral.Cards;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Trust;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hooks;

public sealed record CdsServiceRegistry(IReadOnlyList<ServiceDefinition> Services)
{
    public ServiceDefinition? Find(string id) => Services.FirstOrDefault(s => s.Id == id);
}

/// <summary>One hook call, start to end: parse, validate, gather, snapshot, rules, cards.</summary>
public sealed class HookHandler(
    CdsServiceRegistry registry,
    InputGatherer gatherer,
    SnapshotBuilder snapshots,
    CardBuilder cards,
    Terminology.Terminology terminology,
    FhirServerPolicy fhirServers,
    TimeProvider time,
    IOptions<CdsMitralOptions> options,
    ILogger<HookHandler> logger)
{
    public async Task<IResult> HandleAsync(string id, HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        if (registry.Find(id) is not { } service)
        {
            return Reject(id, null, 404, "not-found", $"There is no CDS service '{id}'. GET /cds-services lists them.");
        }
        if (!IsJson(http.Request.ContentType))
        {
            return Reject(id, null, 415, "not-supported", "A CDS Hooks request must be sent as application/json.");
        }
        var limit = options.Value.MaxRequestBodyBytes;
        if (http.Request.ContentLength > limit || await Streams.ReadAtMostAsync(http.Request.Body, limit, http.RequestAborted) is not { } body)
        {
            return Reject(id, null, 413, "too-costly", $"The request body is larger than {limit} bytes.");
        }
        // The JSON reader checks UTF-8 only where it decodes: bad bytes inside a prefetched string would surface later,
        // deep in the rules, as a 500. Check the whole body once, here.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return Reject(id, null, 400, "invalid", "The body is not valid UTF-8.");
        }
        HookRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body.Span, HookJson.Default.HookRequest);
        }
        catch (JsonException e)
        {
            return Reject(id, null, 400, "invalid", $"The body is not a valid CDS Hooks request: {Describe(e)}", e.Path);
        }
        if (request is null)
        {
            return Reject(id, null, 400, "invalid", "The body is JSON null; a CDS Hooks request is an object.");
        }
        var (context, problems) = HookValidation.Validate(request, service);
        if (context is null)
        {
            Log.HookRejected(logger, id, request.HookInstance, 400, string.Join(" ", problems.Select(p => p.Message)));
            return OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems));
        }

        if (request.FhirServer is { } server && fhirServers.Refusal(http.CallingClient(), server) is { } refusal)
        {
            // Refused before any connection is made: a caller cannot point the service (and a token) at a host of its choosing.
            TrustLog.FhirServerRefused(logger, http.CallingClient().Issuer ?? "an unverified caller", refusal);
            return Reject(id, request.HookInstance, 403, "forbidden", refusal, "fhirServer");
        }

        var gathered = await gatherer.GatherAsync(service, request, context, http.RequestAborted);
        var missing = gathered.MissingRequired(service).ToList();
        if (missing.Count > 0)
        {
            var outcome = new OperationOutcome(gathered.Keys.Where(k => missing.Contains(k.Key)).Select(k =>
                new OperationOutcomeIssue("error", "processing",
                    new CodeableConcept(Text: $"Required data '{k.Key}' could not be obtained: {k.Problem}."),
                    Expression: [$"prefetch.{k.Key}"])).ToList());
            Log.HookRejected(logger, id, request.HookInstance, 412, $"required data unavailable: {string.Join(", ", missing)}");
            return OperationOutcomes.Result(412, outcome);
        }

        var snapshot = snapshots.Build(gathered.Record, time.GetUtcNow());
        var evaluation = service.Hook == Hook.OrderSelect
            ? SecondaryMrRules.EvaluateOrderSelect(snapshot, Orders.Classify(context.Selections, context.DraftOrders, terminology))
            : SecondaryMrRules.EvaluatePatientView(snapshot);
        var response = new CdsResponse(cards.Build(evaluation.Considerations, context.PatientId, http.PublicBaseUrl(), Guid.NewGuid));

        Log.HookAnswered(logger, id, request.HookInstance!, 200, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            string.Join(",", evaluation.FiredRuleIds), string.Join(",", gathered.Keys.Where(k => k.Source == KeySource.Fetched).Select(k => k.Key)));
        return TypedResults.Json(response, HookJson.Default.CdsResponse, contentType: "application/json");
    }

    private IResult Reject(string id, string? hookInstance, int status, string code, string text, string? expression = null)
    {
        Log.HookRejected(logger, id, hookInstance, status, text);
        return OperationOutcomes.Error(status, code, text, expression);
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The parser's message names the path and position; keep it, but not the inner type names.</summary>
    private static string Describe(JsonException e) =>
        e.Path is { Length: > 1 } path
            ? $"the value at {path} (line {e.LineNumber + 1}) is malformed or of the wrong type."
            : $"malformed JSON near line {e.LineNumber + 1}.";
}
