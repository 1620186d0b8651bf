using System.Globalization;
using System.Threading.RateLimiting;
using CdsMitral.Service.Trust;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

/// <summary>Settings under "CdsMitral:Callers": which browser origins may call (CORS), and how often one client may.</summary>
public sealed class CallerOptions
{
    public const string Section = "CdsMitral:Callers";

    /// <summary>Browser origins allowed by CORS (e.g. the CDS Hooks Sandbox, https://sandbox.cds-hooks.org). "*" allows any.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>Calls one client (one verified issuer, or one address when unverified) may make per window.</summary>
    public int PermitLimit { get; set; } = 600;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

public static class CallerLimits
{
    public const string CorsPolicy = "cds-clients";
    public const string RatePolicy = "per-client";

    public static IServiceCollection AddCallerLimits(this IServiceCollection services)
    {
        // Bound through options, not read at registration: configuration added later (a test host, a
        // deployment's override) must still count.
        services.AddOptions<CallerOptions>().BindConfiguration(CallerOptions.Section);
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<CallerOptions>>((cors, callers) =>
            cors.AddPolicy(CorsPolicy, policy =>
            {
                var origins = callers.Value.CorsOrigins;
                if (origins.Contains("*"))
                {
                    policy.AllowAnyOrigin();
                }
                else
                {
                    policy.WithOrigins([.. origins]);
                }
                // The CDS Hooks Sandbox sends Authorization and Content-Type, and preflights every call.
                policy.WithHeaders("Authorization", "Content-Type").WithMethods("GET", "POST").SetPreflightMaxAge(TimeSpan.FromMinutes(10));
            }));
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<CallerOptions>>((limiter, callers) =>
        {
            var options = callers.Value;
            limiter.AddPolicy(RatePolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.CallingClient() is { Verified: true, Issuer: { } issuer } ? $"iss:{issuer}" : $"ip:{http.Connection.RemoteIpAddress}",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.PermitLimit, Window = options.Window, QueueLimit = 0 }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Window;
                context.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await OperationOutcomes.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "throttled",
                    $"Too many calls from this client; retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.");
            };
        });
        return services;
    }
}
