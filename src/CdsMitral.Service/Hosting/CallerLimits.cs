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

    /// <summary>Browser origins allowed by CORS (e.g. the CDS Hooks Sandbox, https://sandbox.cds-hooks.org). "*" allows any.
    /// In the Development environment any loopback origin is allowed as well.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>Calls one verified client (one issuer) may make per window; with verification off (Development), one address.</summary>
    public int PermitLimit { get; set; } = 600;

    /// <summary>Calls per window from one address whose caller did not authenticate (each is refused with 401 and
    /// audited): over it they get 429, and the rest of the window costs one audit record.</summary>
    public int UnverifiedPermitLimit { get; set; } = 60;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Feedback items count as calls: one request may carry many items and each becomes an audit event, so every item
/// takes a permit from a budget of <see cref="CallerOptions.PermitLimit"/> per window, partitioned as calls are.</summary>
public sealed class FeedbackItemBudget(IOptions<CallerOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<(string Partition, int Permits)> _limiter = PartitionedRateLimiter.Create<(string Partition, int Permits), string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key.Partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = key.Permits, Window = options.Value.Window, QueueLimit = 0,
        }));

    /// <summary>Takes one permit per item; null when the client's budget for this window cannot hold them, with the time
    /// to wait and the partition that ran out.</summary>
    public (bool Taken, TimeSpan RetryAfter, string Partition) Take(HttpContext http, int items)
    {
        var key = CallerLimits.PartitionOf(http, options.Value);
        if (items > key.Permits)
        {
            return (false, options.Value.Window, key.Partition);
        }
        using var lease = _limiter.AttemptAcquire(key, items);
        return lease.IsAcquired
            ? (true, TimeSpan.Zero, key.Partition)
            : (false, lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Value.Window, key.Partition);
    }

    public void Dispose() => _limiter.Dispose();
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
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<CallerOptions>, IHostEnvironment>((cors, callers, environment) =>
            cors.AddPolicy(CorsPolicy, policy =>
            {
                var origins = callers.Value.CorsOrigins;
                if (origins.Contains("*"))
                {
                    policy.AllowAnyOrigin();
                }
                else if (environment.IsDevelopment())
                {
                    // A local Sandbox, EHR simulator or app may run on any port: in Development, any loopback origin.
                    var listed = new HashSet<string>(origins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
                    policy.SetIsOriginAllowed(origin => listed.Contains(origin) || IsLoopbackOrigin(origin));
                }
                else
                {
                    policy.WithOrigins([.. origins]);
                }
                // The CDS Hooks Sandbox sends Authorization and Content-Type, and preflights every call.
                policy.WithHeaders("Authorization", "Content-Type").WithMethods("GET", "POST").SetPreflightMaxAge(TimeSpan.FromMinutes(10));
            }));
        services.AddRateLimiter(_ => { });
        services.AddSingleton<FeedbackItemBudget>();
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<CallerOptions>>((limiter, callers) =>
        {
            var options = callers.Value;
            limiter.AddPolicy(RatePolicy, http =>
            {
                var (partition, permits) = PartitionOf(http, options);
                return RateLimitPartition.GetFixedWindowLimiter(partition,
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = options.Window, QueueLimit = 0 });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                // Written before the answer, as every refusal's record is; only the first of a window costs a write.
                await context.HttpContext.RequestServices.GetRequiredService<RefusalAudit>()
                    .RateLimitedAsync(context.HttpContext, PartitionOf(context.HttpContext, options).Partition);
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Window;
                context.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await OperationOutcomes.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "throttled",
                    $"Too many calls from this client; retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.");
            };
        });
        return services;
    }

    /// <summary>An origin (scheme://host[:port], nothing more) on http or https whose host is localhost, 127.0.0.1 or [::1].</summary>
    public static bool IsLoopbackOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Host is "localhost" or "127.0.0.1" or "[::1]"
        && uri.UserInfo.Length == 0
        && string.Equals(origin.TrimEnd('/'), uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    /// <summary>Who shares a budget: a verified client by its issuer; anyone else by address (an IPv6 caller by its /64,
    /// which one host can fill with addresses), with the small unverified budget unless verification is off.</summary>
    public static (string Partition, int Permits) PartitionOf(HttpContext http, CallerOptions options)
    {
        if (http.CallingClient() is { Verified: true, Issuer: { } issuer })
        {
            return ($"iss:{issuer}", options.PermitLimit);
        }
        var off = http.RequestServices.GetRequiredService<IOptions<TrustOptions>>().Value.Mode == TrustMode.Off;
        return (off ? $"ip:{AddressOf(http)}" : $"unverified:{AddressOf(http)}", off ? options.PermitLimit : options.UnverifiedPermitLimit);
    }

    /// <summary>The caller's address as a partition knows it: IPv4 whole, IPv6 by its /64 prefix.</summary>
    public static string AddressOf(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new System.Net.IPAddress(bytes) + "/64";
    }
}
