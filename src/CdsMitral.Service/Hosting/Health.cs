using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Feedback;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Trust;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

/// <summary>/health/live: the process answers. /health/ready: it can also keep audit records (store reachable and the
/// spool not in use), and a hook would be answered fast (the warm-up has run). Both unauthenticated, for load balancers
/// and orchestrators; neither reveals data.</summary>
public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddSingleton<WarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<WarmUp>());
        services.AddHealthChecks()
            .AddCheck<AuditStoreCheck>("audit-store", tags: ["ready"])
            .AddCheck<WarmUpCheck>("warm-up", tags: ["ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // Load balancers and orchestrators probe without credentials; the answers name checks and states, never data.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .Public("liveness for the orchestrator; says only that the process answers");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write })
            .Public("readiness for the load balancer; names its checks and their states, never a record");
        return app;
    }

    private static Task Write(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return http.Response.Body.WriteAsync(stream.ToArray()).AsTask();
    }

    private sealed class AuditStoreCheck(AuditWriter writer, AuditDatabase db, SuppressionStore suppressions) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!writer.Enabled)
            {
                return HealthCheckResult.Degraded("the audit trail is off (Audit:Store=None)");
            }
            try
            {
                await using var connection = await db.OpenAsync(cancellationToken);
                await using var command = AuditDatabase.Command(connection, null, "SELECT seq FROM chain_head WHERE id = 1");
                await command.ExecuteScalarAsync(cancellationToken);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("the audit store cannot be reached; records go to the spool");
            }
            return writer.StoreHealthy
                ? HealthCheckResult.Healthy($"the audit store is reachable; {suppressions.Mode}")
                : HealthCheckResult.Degraded("the audit store is back, spooled records are still being moved");
        }
    }

    private sealed class WarmUpCheck(WarmUp warmUp) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(warmUp.Finished is { } ms
                ? HealthCheckResult.Healthy($"warmed up in {ms:0} ms")
                : HealthCheckResult.Unhealthy("warming up: the first hook would wait for the JIT"));
    }
}

/// <summary>
/// Before the service says it is ready, one synthetic patient-view runs through what a real one runs through: the body
/// gate, parsing with the duplicate-key check, validation, the prefetch, snapshot, rules, cards, the answer's JSON, the
/// audit record built and signed, and its append rehearsed in a transaction that is rolled back. Without it the first
/// clinician's call waited ~0.4 s (0.7 s on a busy machine) for the JIT. Nothing is committed: the trail holds no record
/// of the warm-up.
/// </summary>
public sealed class WarmUp(IServiceProvider services, CdsServiceRegistry registry, HookEvaluation evaluation, AuditWriter writer,
    TimeProvider time, IHostApplicationLifetime lifetime, ILogger<WarmUp> logger) : IHostedService
{
    private double? _finished;
    private Task _run = Task.CompletedTask;

    /// <summary>How long the warm-up took, once it has finished (or given up: a failed warm-up only costs speed).</summary>
    public double? Finished => _finished;

    /// <summary>Starts the warm-up beside the host rather than before it: Kestrel listens at once, so /health/live answers
    /// however slow the JIT is on a busy machine, and /health/ready says ready only once the warm-up is done.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => RunTimed(lifetime.ApplicationStopping), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping has already cancelled a warm-up still running; wait for it to let go of the store.
        await _run.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunTimed(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await RunOnce(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception e)
        {
            WarmUpLog.Failed(logger, e.GetType().Name, e.Message);
        }
        _finished = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        WarmUpLog.Done(logger, _finished.Value);
    }

    private async Task RunOnce(CancellationToken cancellationToken)
    {
        // No trace of the synthetic call reaches an exporter: it is not a call anyone made.
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        var bytes = Synthetic();
        await using var scope = services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        // What the authentication middleware does on every request: ask each remote sign-in handler (the Navigator's
        // SMART callback) whether this request is its callback. The first ask builds the handler's options.
        var handlers = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationHandlerProvider>();
        foreach (var scheme in await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>().GetRequestHandlerSchemesAsync())
        {
            if (await handlers.GetHandlerAsync(http, scheme.Name) is Microsoft.AspNetCore.Authentication.IAuthenticationRequestHandler handler)
            {
                await handler.HandleRequestAsync();
            }
        }
        http.Request.ContentType = "application/json";
        http.Request.ContentLength = bytes.Length;
        http.Request.Body = new MemoryStream(bytes);
        http.Response.Body = Stream.Null;
        var (body, refusal) = await JsonBodies.ReadAsync(http.Request, bytes.Length, "The warm-up request");
        if (refusal is not null)
        {
            throw new InvalidOperationException(refusal.Text);
        }
        var service = registry.Find("secondary-mr-patient-view") ?? registry.Services[0];
        var (request, document) = HookParsing.Parse(body);
        using var _ = document;
        var (context, problems) = HookValidation.Validate(request!, service);
        if (context is null)
        {
            throw new InvalidOperationException(string.Join(" ", problems.Select(p => p.Message)));
        }
        var now = time.GetUtcNow();
        var gathered = await services.GetRequiredService<InputGatherer>().GatherAsync(service, request!, context, cancellationToken);
        var answer = evaluation.Evaluate(service.Hook, context, gathered.Record, now, "https://warm-up.invalid", Guid.CreateVersion7);
        await TypedResults.Json(new CdsResponse(answer.Cards), HookJson.Default.CdsResponse, contentType: "application/json").ExecuteAsync(http);
        var draft = new InvocationDraft(service.Id, now)
        {
            Request = request, Context = context, Gathered = gathered, Snapshot = answer.Snapshot, Evaluation = answer.Evaluation, Cards = answer.Cards,
        };
        var entry = InvocationAudit.Entry(draft, new CallingClient("https://warm-up.invalid", "warm-up", null, null, false), 200, null, 0);
        if (writer.Enabled)
        {
            await writer.RehearseAsync(entry).WaitAsync(cancellationToken);
        }
        await AroundTheHandler(scope.ServiceProvider, http, service, request!, context, gathered, answer, now, cancellationToken);
        CompileWhatOnlyARealCallRuns();
    }

    /// <summary>The handler itself and the writer's commit cannot run here (each would keep an audit record): their
    /// async methods' bodies are compiled instead (traced: ~15 % of the first hook after ready, the commit's at full
    /// optimisation on the writer's thread).</summary>
    private static void CompileWhatOnlyARealCallRuns()
    {
        foreach (var type in new[] { typeof(HookHandler), typeof(AuditWriter), typeof(AuditStore) })
        {
            foreach (var machine in type.GetNestedTypes(BindingFlags.NonPublic))
            {
                if (typeof(IAsyncStateMachine).IsAssignableFrom(machine) && !machine.ContainsGenericParameters
                    && machine.GetMethod(nameof(IAsyncStateMachine.MoveNext), BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance) is { } moveNext)
                {
                    RuntimeHelpers.PrepareMethod(moveNext.MethodHandle);
                }
            }
        }
    }

    /// <summary>What a hook meets around the steps above, each built or compiled on first use: the client-trust scheme
    /// and policy (the handler, verifier, JWKS cache and token handler were ~40 % of the first hook after ready, traced),
    /// the caller's rate partition, the handler and its dependencies, and the stand-back read of earlier feedback.</summary>
    private async Task AroundTheHandler(IServiceProvider scoped, DefaultHttpContext http, ServiceDefinition service, HookRequest request,
        HookContext context, Gathered gathered, HookOutcome answer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The public base URL is resolved once and kept: not before Kestrel has said where it listens.
        await Started(cancellationToken);
        http.Request.Method = HttpMethods.Post;
        http.Request.Scheme = "http";
        http.Request.Host = new HostString("warm-up.invalid");
        http.Request.Path = "/cds-services/" + service.Id;
        // No bearer token: the verifier says so without a network call, and nothing is refused or audited (that is the
        // challenge's part, which is not asked for). Without an HttpContext as resource, Trust:Mode=Off logs no line.
        var policy = await scoped.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(ClientAuthentication.Policy);
        if (policy is not null)
        {
            var evaluator = scoped.GetRequiredService<IPolicyEvaluator>();
            await evaluator.AuthorizeAsync(policy, await evaluator.AuthenticateAsync(policy, http), http, resource: null);
        }
        CallerLimits.PartitionOf(http, scoped.GetRequiredService<IOptions<CallerOptions>>().Value);
        _ = http.PublicBaseUrl();
        scoped.GetRequiredService<HookHandler>();
        _ = gathered.MissingRequired(service).ToList();
        if (answer.Cards.Count > 0)
        {
            var standBack = scoped.GetRequiredService<StandBack>();
            var (notShown, _) = await standBack.CheckAsync(service.Id, request.HookInstance, context, StandBackScope.Of(http.CallingClient().Issuer, http.CallingClient().Tenant, request.FhirServer), answer, now, cancellationToken);
            HookEvaluation.StandBack(answer, notShown, standBack.MaxCardsPerAnswer);
        }
    }

    private async Task Started(CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The COAPT-like sample patient-view with its full prefetch (samples/requests, embedded at build): echoes,
    /// MR assessments, panels, medicines, conditions and procedures, so that every reader, rule and card runs.</summary>
    private static byte[] Synthetic()
    {
        using var stream = typeof(WarmUp).Assembly.GetManifestResourceStream("warm-up/patient-view.json")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

internal static partial class WarmUpLog
{
    [LoggerMessage(90, LogLevel.Information, "Warmed up in {Ms:0} ms: one synthetic hook through parsing, rules, cards and a rolled-back audit append")]
    public static partial void Done(ILogger logger, double ms);

    [LoggerMessage(91, LogLevel.Warning, "Warm-up incomplete ({Type:l}: {Message:l}); the first hooks may be slow")]
    public static partial void Failed(ILogger logger, string type, string message);
}
