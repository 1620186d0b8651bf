using CdsMitral.Hooks;
using CdsMitral.Service.Feedback;
using CdsMitral.Service.Hosting;

namespace CdsMitral.Service.Hooks;

public static class HookEndpoints
{
    /// <summary>CDS Hooks 2.0: discovery at {base}/cds-services, services at {base}/cds-services/{id}.</summary>
    public static IEndpointRouteBuilder MapCdsServices(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cds-services").RequireRateLimiting(Hosting.CallerLimits.RatePolicy);
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
        }
        return app;
    }
}
