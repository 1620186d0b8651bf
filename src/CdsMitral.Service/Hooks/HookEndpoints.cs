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
        return app;
    }
}
