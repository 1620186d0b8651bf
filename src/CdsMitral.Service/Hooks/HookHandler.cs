using System.Diagnostics;
using System.Text.Json;
using CdsMitral.Cards;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Feedback;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Telemetry;
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
    StandBack standBack,
    RuleModes ruleModes,
    AuditWriter writer,
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
        var serviceTag = new KeyValuePair<string, object?>("cds.service", Metrics.ServiceTag(id, parsed.Stage != NoSuchService));
        var committing = Stopwatch.GetTimestamp();
        IResult? unrecorded = null;
        using (var span = CdsMitral.Hooks.Tracing.Source.StartActivity("audit commit"))
        {
            try
            {
                // Each card left out because of earlier feedback is an audit event of its own, durable with the call's record.
                var recorded = audit.RecordAsync(draft, http.CallingClient(), status, reason, totalMs);
                await (parsed.Suppressions.Count == 0 ? recorded : Task.WhenAll([recorded, .. parsed.Suppressions.Select(writer.WriteAsync)]));
                Metrics.AuditCommit.Record(Stopwatch.GetElapsedTime(committing).TotalSeconds);
            }
            catch (InvalidOperationException e)
            {
                // No acknowledged call without its record: if the record cannot be kept, the cards are not given.
                span?.SetStatus(ActivityStatusCode.Error);
                Log.Unhandled(logger, e, http.Request.Method, http.Request.Path);
                (status, parsed.Stage) = (503, "audit");
                unrecorded = OperationOutcomes.Error(503, "transient", "The audit trail is unavailable, so the call was not answered. Retry later.");
            }
        }
        Metrics.HookDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, serviceTag, new("http.response.status_code", status));
        Activity.Current?.SetTag("cds.service", serviceTag.Value);
        if (unrecorded is not null)
        {
            Metrics.Refusals.Add(1, new("http.response.status_code", 503), new("stage", parsed.Stage));
            return unrecorded;
        }
        if (status == 200 && logger.IsEnabled(LogLevel.Information))
        {
            // The lists are joined only when the line is written: most deployments log warnings and above.
            Log.HookAnswered(logger, id, draft.Request!.HookInstance!, 200, totalMs,
                string.Join(",", draft.Evaluation!.FiredRuleIds), string.Join(",", draft.Gathered!.Keys.Where(k => k.Source == KeySource.Fetched).Select(k => k.Key)));
        }
        else if (status != 200)
        {
            Log.HookRejected(logger, id, draft.Request?.HookInstance, status, reason ?? "");
            Metrics.Refusals.Add(1, new("http.response.status_code", status), new("stage", parsed.Stage));
        }
        return result;
    }

    /// <summary>Keeps the parsed body alive for the whole call (prefetch elements point into it), and what stood back.</summary>
    /// <summary>The stage of a call whose path names no service of ours (and so its tag is "other").</summary>
    private const string NoSuchService = "route";

    private sealed class DocumentHolder : IDisposable
    {
        public JsonDocument? Document { get; set; }

        /// <summary>The audit events of the cards that stood back.</summary>
        public IReadOnlyList<AuditEntry> Suppressions { get; set; } = [];

        /// <summary>How far the call got: the stage a refusal is counted under.</summary>
        public string Stage { get; set; } = NoSuchService;

        public void Dispose() => Document?.Dispose();
    }

    private async Task<(int Status, IResult Result, string? Reason)> Answer(string id, HttpContext http, InvocationDraft draft, DocumentHolder parsed, long started)
    {
        if (registry.Find(id) is not { } service)
        {
            return Refuse(404, "not-found", $"There is no CDS service '{id}'. GET /cds-services lists them.");
        }
        parsed.Stage = "parse";
        using var parsing = CdsMitral.Hooks.Tracing.Source.StartActivity("parse");
        var (body, bodyRefusal) = await JsonBodies.ReadAsync(http.Request, options.Value.MaxRequestBodyBytes, "A CDS Hooks request");
        if (bodyRefusal is not null)
        {
            return (bodyRefusal.Status, bodyRefusal.ToResult(), bodyRefusal.Text);
        }
        try
        {
            (draft.Request, parsed.Document) = HookParsing.Parse(body);
        }
        catch (JsonException e)
        {
            var (where, path) = Describe(e, body.Span);
            var text = $"The body is not a valid CDS Hooks request: {where}";
            return (400, OperationOutcomes.Error(400, "invalid", text, path), text);
        }
        if (draft.Request is not { } request)
        {
            return Refuse(400, "invalid", "The body is JSON null; a CDS Hooks request is an object.");
        }
        var (context, problems) = HookValidation.Validate(request, service);
        draft.ParseMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        parsing?.Stop();
        parsed.Stage = "validate";
        if (context is null)
        {
            return (400, OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems)), string.Join(" ", problems.Select(p => p.Message)));
        }
        draft.Context = context;
        parsed.Stage = "fhir-server";
        if (request.FhirServer is { } server && fhirServers.Refusal(http.CallingClient(), server) is { } refusal)
        {
            // Refused before any connection is made: a caller cannot point the service (and a token) at a host of its choosing.
            TrustLog.FhirServerRefused(logger, http.CallingClient().Issuer ?? "an unverified caller", refusal);
            return Refuse(403, "forbidden", refusal, "fhirServer");
        }

        parsed.Stage = "required-data";
        var gatherStarted = Stopwatch.GetTimestamp();
        Gathered gathered;
        using (var span = CdsMitral.Hooks.Tracing.Source.StartActivity("gather"))
        {
            gathered = draft.Gathered = await gatherer.GatherAsync(service, request, context, http.RequestAborted);
            span?.SetTag("cdsmitral.fhir.requests", gathered.Queries.Count);
        }
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
        var now = time.GetUtcNow();
        var answer = evaluation.Evaluate(service.Hook, context, gathered.Record, now, http.PublicBaseUrl(), Guid.CreateVersion7, ruleModes.Lookup);
        if (answer.Cards.Count > 0)
        {
            // Feedback that counts, then few cards: what stood back and what the limit left out are named in the rule outcomes.
            using var span = CdsMitral.Hooks.Tracing.Source.StartActivity("stand-back");
            var (notShown, suppressions) = await standBack.CheckAsync(service.Id, request.HookInstance, context,
                StandBackScope.Of(http.CallingClient().Issuer, http.CallingClient().Tenant, request.FhirServer), answer, now, http.RequestAborted);
            parsed.Suppressions = suppressions;
            foreach (var rule in notShown.Keys)
            {
                Metrics.StandBacks.Add(1, new KeyValuePair<string, object?>("rule", rule));
            }
            answer = HookEvaluation.StandBack(answer, notShown, standBack.MaxCardsPerAnswer);
        }
        (draft.Snapshot, draft.Evaluation, draft.Cards) = (answer.Snapshot, answer.Evaluation, answer.Cards);
        foreach (var card in answer.Cards)
        {
            Metrics.Cards.Add(1, new("rule", HookEvaluation.RuleOf(card)), new("indicator", card.Indicator));
        }
        foreach (var silent in answer.Evaluation.Outcomes.Where(o => o.Fired && o.Mode == "silent"))
        {
            Metrics.SilentFirings.Add(1, new("rule", silent.RuleId), new("version", silent.Version));
        }
        draft.EvaluateMs = Stopwatch.GetElapsedTime(evaluateStarted).TotalMilliseconds;
        return (200, TypedResults.Json(new CdsResponse(draft.Cards), HookJson.Default.CdsResponse, contentType: "application/json"), null);
    }

    private static (int, IResult, string) Refuse(int status, string code, string text, string? expression = null) =>
        (status, OperationOutcomes.Error(status, code, text, expression), text);

    /// <summary>The parser's message names the path and position; keep them, but not the inner type names. A refused
    /// duplicate key comes without either, so the body is walked once more to find it.</summary>
    private static (string Text, string? Path) Describe(JsonException e, ReadOnlySpan<byte> body)
    {
        if (e.LineNumber is { } line)
        {
            return e.Path is { Length: > 1 } path
                ? ($"the value at {path} (line {line + 1}) is malformed or of the wrong type.", path)
                : ($"malformed JSON near line {line + 1}.", e.Path);
        }
        return JsonText.FindDuplicateKey(body) is { } duplicate
            ? ($"the member {duplicate.Path} (line {duplicate.Line}) appears twice in its object; each member may appear only once.", duplicate.Path)
            : ("malformed JSON.", e.Path);
    }
}
