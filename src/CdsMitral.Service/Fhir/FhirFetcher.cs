using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CdsMitral.Service.Hosting;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CdsMitral.Service.Fhir;

/// <summary>One FHIR GET as the audit sees it: the URL (never a token), the final status, time and attempts.</summary>
public sealed record FhirQuery(string Url, int Status, double DurationMs, int Attempts, string? Error);

public sealed record FetchResult(JsonElement? Body, int Status, string? Error)
{
    public bool Ok => Error is null;
}

/// <summary>GETs from the EHR's FHIR server: bearer token per request, a timeout per attempt, retries of transient
/// failures (5xx, 429, connection errors) that honour Retry-After only while the hook's deadline allows, no redirects,
/// and a cap on the body size.</summary>
public sealed class FhirFetcher(HttpClient http, FhirResilience resilience, IOptions<CdsMitralOptions> options, ILogger<FhirFetcher> logger)
{
    public const string HttpClientName = "fhir";
    private static readonly ResiliencePropertyKey<DateTimeOffset> Deadline = new("cdsmitral.deadline");
    private static readonly ResiliencePropertyKey<int> Attempts = new("cdsmitral.attempts");

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline = resilience.Pipeline;

    /// <summary>Marks the service's FHIR GETs, which have a span of their own (see <see cref="GetAsync"/>), so that the
    /// HttpClient instrumentation does not add one that names the URL.</summary>
    private static readonly HttpRequestOptionsKey<bool> FhirRequest = new("cdsmitral.fhir");

    public static bool IsFhirRequest(HttpRequestMessage request) => request.Options.TryGetValue(FhirRequest, out var fhir) && fhir;

    /// <summary>The resource types the service reads; a span names one of these or "other", never a path or an id.</summary>
    private static readonly HashSet<string> ResourceTypes = new(StringComparer.Ordinal)
    {
        "Observation", "MedicationRequest", "MedicationStatement", "MedicationAdministration", "Medication", "Condition",
        "Procedure", "Encounter", "Patient", "ServiceRequest", "DiagnosticReport", "Device", "QuestionnaireResponse",
    };

    private static string ResourceTypeOf(Uri url)
    {
        var segments = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.LastOrDefault(ResourceTypes.Contains) ?? "other";
    }

    public async Task<(FetchResult Result, FhirQuery Query)> GetAsync(Uri url, string? accessToken, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var resourceType = ResourceTypeOf(url);
        // Its context (W3C traceparent) goes to the FHIR server with each attempt.
        using var span = CdsMitral.Hooks.Tracing.Source.StartActivity($"FHIR GET {resourceType}", ActivityKind.Client);
        span?.SetTag("server.address", url.Host);
        span?.SetTag("server.port", url.Port);
        span?.SetTag("fhir.resource_type", resourceType);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Deadline, deadline);
        context.Properties.Set(Attempts, 0);
        // Logged and audited: never the user information, nor a credential in the query (a server's next link may carry one).
        var safeUrl = Trust.FhirServerPolicy.Redact(url);
        try
        {
            using var response = await _pipeline.ExecuteAsync(async ctx =>
            {
                ctx.Properties.Set(Attempts, ctx.Properties.GetValue(Attempts, 0) + 1);
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Options.Set(FhirRequest, true);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.9));
                if (accessToken is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
                }
                return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.CancellationToken);
            }, context);
            var status = (int)response.StatusCode;
            var result = response.IsSuccessStatusCode
                ? await ReadBody(response, options.Value.FhirMaxResponseBytes, cancellationToken)
                : new FetchResult(null, status, $"HTTP {status}");
            return Done(result with { Status = status }, response.IsSuccessStatusCode ? "unusable-body" : "http-" + status);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or OperationCanceledException or JsonException or IOException)
        {
            var (reason, category) = e switch
            {
                OperationCanceledException when cancellationToken.IsCancellationRequested => ("the hook's deadline passed", "deadline"),
                TimeoutRejectedException => ("timed out", "timeout"),
                JsonException => ("the body is not valid JSON", "unusable-body"),
                OperationCanceledException => ("cancelled", "cancelled"),
                _ => (e.Message, "connection"),
            };
            return Done(new FetchResult(null, 0, reason), category);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        (FetchResult, FhirQuery) Done(FetchResult result, string failure)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            var ms = elapsed.TotalMilliseconds;
            var attempts = context.Properties.GetValue(Attempts, 1);
            var host = new KeyValuePair<string, object?>("server.address", url.Host);
            Telemetry.Metrics.FhirDuration.Record(elapsed.TotalSeconds, host, new("outcome", result.Ok ? "ok" : failure));
            span?.SetTag("cdsmitral.attempts", attempts);
            if (result.Status != 0)
            {
                span?.SetTag("http.response.status_code", result.Status);
            }
            if (!result.Ok)
            {
                Telemetry.Metrics.FhirFailures.Add(1, host, new("reason", failure));
                span?.SetTag("error.type", failure);
                span?.SetStatus(ActivityStatusCode.Error);
            }
            if (result.Ok)
            {
                Log.FhirQuery(logger, safeUrl, result.Status, ms, attempts);
            }
            else
            {
                Log.FhirQueryFailed(logger, safeUrl, result.Error!);
            }
            return (result, new FhirQuery(safeUrl, result.Status, ms, attempts, result.Error));
        }
    }

    private static async Task<FetchResult> ReadBody(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            return new FetchResult(null, 0, $"body larger than {maxBytes} bytes");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        if (await Streams.ReadAtMostAsync(stream, maxBytes, cancellationToken) is not { } bytes)
        {
            return new FetchResult(null, 0, $"body larger than {maxBytes} bytes");
        }
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
        {
            return new FetchResult(null, 0, "the body is not valid UTF-8");
        }
        using var document = JsonDocument.Parse(bytes);
        return new FetchResult(document.RootElement.Clone(), 0, null);
    }

    internal static ResiliencePipeline<HttpResponseMessage> BuildPipeline(CdsMitralOptions o, TimeProvider time) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(o.FhirMaxRetries, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, args.AttemptNumber, o, time)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(o.FhirRequestTimeout)
            .Build();

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, int attempt, CdsMitralOptions o, TimeProvider time)
    {
        if (attempt >= o.FhirMaxRetries)
        {
            return false;
        }
        var transient = outcome.Exception is HttpRequestException or TimeoutRejectedException
            || outcome.Result?.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
                or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
        if (!transient)
        {
            return false;
        }
        // A retry that cannot finish before the deadline only delays the 412: give up now instead.
        var remaining = context.Properties.GetValue(Deadline, DateTimeOffset.MaxValue) - time.GetUtcNow();
        var wait = RetryAfter(outcome.Result, time) ?? TimeSpan.Zero;
        return wait + TimeSpan.FromMilliseconds(10) < remaining;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time)
    {
        var header = response?.Headers.RetryAfter;
        return header?.Delta ?? (header?.Date is { } at ? at - time.GetUtcNow() : null);
    }
}

/// <summary>The retry and timeout pipeline, built once from the options and shared by every fetch.</summary>
public sealed class FhirResilience(IOptions<CdsMitralOptions> options, TimeProvider time)
{
    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; } = FhirFetcher.BuildPipeline(options.Value, time);
}
