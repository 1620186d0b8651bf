using System.Text.Json;
using CdsMitral.Service.Audit;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CdsMitral.Service.Hosting;

/// <summary>/health/live: the process answers. /health/ready: it can also keep audit records (store reachable and the
/// spool not in use). Both unauthenticated, for load balancers and orchestrators; neither reveals data.</summary>
public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<AuditStoreCheck>("audit-store", tags: ["ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write });
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

    private sealed class AuditStoreCheck(AuditWriter writer, AuditDatabase db) : IHealthCheck
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
                ? HealthCheckResult.Healthy("the audit store is reachable")
                : HealthCheckResult.Degraded("the audit store is back, spooled records are still being moved");
        }
    }
}
