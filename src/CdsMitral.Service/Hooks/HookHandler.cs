using System.Diagnostics;
using System.Text.Json;
using CdsMitral.Cards;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Audit;
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

/// <summary>One hook call, start to end: parse, validate, gather, snapshot, rules, cards — and, whatever the outcome,
/// its audit record, committed before the answer leaves.</summary>
public sealed class HookHandler(
    CdsServiceRegistry registry,
    InputGatherer gatherer,
    HookEvaluation evaluation,
    FhirServerPolicy fhirServers,
    InvocationAudit audit,
    TimeProvider time,
    IOptions<CdsMitralOptions> options,
    ILogger<HookHandler> logger)
{
    public async Task<IResult> HandleAsync(string id, HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var draft = new InvocationDraft(id, time.GetUtcNow());
        using var parsed = new DocumentHolder();
        var (status, result, reason) = await Answer(id, http, draft, parsed, started);
        var totalMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            await audit.RecordAsync(draft, http.CallingClient(), status, reason, totalMs);
        }
        catch (InvalidOperationException e)
        {
            // No acknowledged call without its record: if the record cannot be kept, the cards are not given.
            Log.Unhandled(logger, e, http.Request.Method, http.Request.Path);
            return OperationOutcomes.Error(503, "transient", "The audit trail is unavailable, so the call was not answered. Retry later.");
        }
        if (status == 200)
        {
            Log.HookAnswered(logger, id, draft.Request!.HookInstance!, 200, totalMs,
                string.Join(",", draft.Evaluation!.FiredRuleIds), string.Join(",", draft.Gathered!.Keys.Where(k => k.Source == KeySource.Fetched).Select(k => k.Key)));
        }
        else
        {
            Log.HookRejected(logger, id, draft.Request?.HookInstance, status, reason ?? "");
        }
        return result;
    }

    /// <summary>Keeps the parsed body alive for the whole call: prefetch elements point into it.</summary>
    private sealed class DocumentHolder : IDisposable
    {
        public JsonDocument? Document { get; set; }

        public void Dispose() => Document?.Dispose();
    }

    private async Task<(int Status, IResult Result, string? Reason)> Answer(string id, HttpContext http, InvocationDraft draft, DocumentHolder parsed, long started)
    {
        if (registry.Find(id) is not { } service)
        {
            return Refuse(404, "not-found", $"There is no CDS service '{id}'. GET /cds-services lists them.");
        }
        if (!IsJson(http.Request.ContentType))
        {
            return Refuse(415, "not-supported", "A CDS Hooks request must be sent as application/json.");
        }
        var limit = options.Value.MaxRequestBodyBytes;
        if (http.Request.ContentLength > limit || await Streams.ReadAtMostAsync(http.Request.Body, limit, http.RequestAborted) is not { } body)
        {
            return Refuse(413, "too-costly", $"The request body is larger than {limit} bytes.");
        }
        // The JSON reader checks UTF-8 only where it decodes: bad bytes inside a prefetched string would surface later,
        // deep in the rules, as a 500. Check the whole body once, here.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return Refuse(400, "invalid", "The body is not valid UTF-8.");
        }
        try
        {
            (draft.Request, parsed.Document) = HookParsing.Parse(body);
        }
        catch (JsonException e)
        {
            return Refuse(400, "invalid", $"The body is not a valid CDS Hooks request: {Describe(e)}", e.Path);
        }
        if (draft.Request is not { } request)
        {
            return Refuse(400, "invalid", "The body is JSON null; a CDS Hooks request is an object.");
        }
        var (context, problems) = HookValidation.Validate(request, service);
        draft.ParseMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (context is null)
        {
            return (400, OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems)), string.Join(" ", problems.Select(p => p.Message)));
        }
        draft.Context = context;
        if (request.FhirServer is { } server && fhirServers.Refusal(http.CallingClient(), server) is { } refusal)
        {
            // Refused before any connection is made: a caller cannot point the service (and a token) at a host of its choosing.
            TrustLog.FhirServerRefused(logger, http.CallingClient().Issuer ?? "an unverified caller", refusal);
            return Refuse(403, "forbidden", refusal, "fhirServer");
        }

        var gatherStarted = Stopwatch.GetTimestamp();
        var gathered = draft.Gathered = await gatherer.GatherAsync(service, request, context, http.RequestAborted);
        draft.GatherMs = Stopwatch.GetElapsedTime(gatherStarted).TotalMilliseconds;
        var missing = gathered.MissingRequired(service).ToList();
        if (missing.Count > 0)
        {
            var outcome = new OperationOutcome(gathered.Keys.Where(k => missing.Contains(k.Key)).Select(k =>
                new OperationOutcomeIssue("error", "processing",
                    new CodeableConcept(Text: $"Required data '{k.Key}' could not be obtained: {k.Problem}."),
                    Expression: [$"prefetch.{k.Key}"])).ToList());
            return (412, OperationOutcomes.Result(412, outcome), $"required data unavailable: {string.Join(", ", missing)}");
        }

        var evaluateStarted = Stopwatch.GetTimestamp();
        // UUIDv7 (time-ordered, still random enough to be unguessable): the audit's card index then grows at one end.
        var answer = evaluation.Evaluate(service.Hook, context, gathered.Record, time.GetUtcNow(), http.PublicBaseUrl(), Guid.CreateVersion7);
        (draft.Snapshot, draft.Evaluation, draft.Cards) = (answer.Snapshot, answer.Evaluation, answer.Cards);
        draft.EvaluateMs = Stopwatch.GetElapsedTime(evaluateStarted).TotalMilliseconds;
        return (200, TypedResults.Json(new CdsResponse(draft.Cards), HookJson.Default.CdsResponse, contentType: "application/json"), null);
    }

    private static (int, IResult, string) Refuse(int status, string code, string text, string? expression = null) =>
        (status, OperationOutcomes.Error(status, code, text, expression), text);

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
