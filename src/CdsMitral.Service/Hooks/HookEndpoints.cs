using CdsMitral.Hooks;
using CdsMitral.Service.Feedback;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Trust;

namespace CdsMitral.Service.Hooks;

public static class HookEndpoints
{
    /// <summary>CDS Hooks 2.0: discovery at {base}/cds-services, services at {base}/cds-services/{id}. Every call, discovery
    /// included (2.0 §Trusting CDS Clients: "every single CDS Service call, whether that be a Discovery call …"), needs a
    /// verified client JWT, and each client (or unverified address) has a rate.</summary>
    public static IEndpointRouteBuilder MapCdsServices(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cds-services")
            .RequireAuthorization(ClientAuthentication.Policy)
            .RequireRateLimiting(CallerLimits.RatePolicy);
        group.MapGet("", (CdsServiceRegistry registry) =>
            TypedResults.Json(new DiscoveryResponse(registry.Services.Select(s => s.ToDescriptor()).ToList()), HookJson.Default.DiscoveryResponse))
            .WithSummary("CDS Hooks discovery: the services and their prefetch templates")
            .Produces<DiscoveryResponse>(StatusCodes.Status200OK);
        group.MapPost("/{id}", (string id, HttpContext http, HookHandler handler) => handler.HandleAsync(id, http)).DescribeHook();
        group.MapFeedback();
        // The yardstick of bench/http-load.sh: same process, same middleware, but only parse the body and answer no
        // cards. Off unless CdsMitral:Bench:BaselineEndpoint is true.
        if (app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue<bool>("CdsMitral:Bench:BaselineEndpoint"))
        {
            group.MapPost("/bench-baseline", async (HttpContext http) =>
            {
                using var document = await System.Text.Json.JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
                return Results.Text("""{"cards":[]}""", "application/json");
            });
            // What the process has allocated so far, for bench/allocations.sh to divide by the hooks it posted between two reads.
            group.MapGet("/bench-allocated", () => Results.Text($$"""{"allocatedBytes":{{GC.GetTotalAllocatedBytes(precise: true)}}}""", "application/json"));
            // How many methods the JIT has compiled so far: the comparison's warm-up runs until this stops growing (tiering done).
            group.MapGet("/bench-jit", () => Results.Text($$"""{"compiledMethods":{{System.Runtime.JitInfo.GetCompiledMethodCount()}}}""", "application/json"));
        }
        // Anything else under /cds-services is mapped too, so that it sits behind the same authentication and rate:
        // an unknown path costs an unverified caller a 401 within its budget, not an unmetered 404 and record each.
        group.Map("/{**rest}", async (string? rest, HttpContext http, RefusalAudit refusals) =>
        {
            var known = rest is null || !rest.Contains('/', StringComparison.Ordinal) || rest.EndsWith("/feedback", StringComparison.Ordinal) && rest.Count(c => c == '/') == 1;
            var (status, text) = known
                ? (StatusCodes.Status405MethodNotAllowed, $"{http.Request.Method} is not allowed here.")
                : (StatusCodes.Status404NotFound, "Nothing is served at this path. GET /cds-services lists the services.");
            await refusals.RecordAsync(http, status, status == 405 ? "method not allowed" : "no such route");
            return OperationOutcomes.Error(status, status == 405 ? "not-supported" : "not-found", text);
        }).ExcludeFromDescription();
        return app;
    }
}
