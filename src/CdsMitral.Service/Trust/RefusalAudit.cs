using CdsMitral.Service.Audit;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Hosting;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Trust;

/// <summary>
/// The audit records of calls under /cds-services that were answered 4xx/5xx without reaching the hook handler's own
/// record: refused authentication, rate limits, unknown routes, failed feedback. Each is compact and bounded (a service
/// id or a path cut to <see cref="MaxPath"/>, a reason of at most <see cref="InvocationAudit.MaxRefusalReason"/>), and a
/// rate-limit episode is one record for its first refusal plus one with the count of the rest.
/// </summary>
public sealed class RefusalAudit : IDisposable
{
    public const int MaxPath = 64;

    private readonly InvocationAudit _audit;
    private readonly CdsServiceRegistry _registry;
    private readonly TimeProvider _time;
    private readonly IOptions<CallerOptions> _callers;
    private readonly ILogger<RefusalAudit> _logger;
    private readonly Dictionary<string, Episode> _episodes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly ITimer _sweep;

    private sealed class Episode(DateTimeOffset started, string service, string partition)
    {
        public DateTimeOffset Started { get; } = started;
        public string Service { get; } = service;
        public string Partition { get; } = partition;
        public DateTimeOffset Last { get; set; } = started;
        public long Further { get; set; }
    }

    public RefusalAudit(InvocationAudit audit, CdsServiceRegistry registry, TimeProvider time, IOptions<CallerOptions> callers,
        IHostApplicationLifetime lifetime, ILogger<RefusalAudit> logger)
    {
        _audit = audit;
        _registry = registry;
        _time = time;
        _callers = callers;
        _logger = logger;
        // Episodes whose window has passed are written even if their partition never calls again.
        var every = callers.Value.Window > TimeSpan.FromSeconds(1) ? callers.Value.Window : TimeSpan.FromSeconds(1);
        _sweep = TimeProvider.System.CreateTimer(_ => _ = FlushAsync(all: false), null, every, every);
        // Stopping runs before the audit writer stops: the counts of open episodes still reach the store.
        lifetime.ApplicationStopping.Register(() => FlushAsync(all: true).Wait(TimeSpan.FromSeconds(5)));
    }

    public static bool IsRecorded(HttpContext http) => http.Items.ContainsKey(InvocationAudit.RecordedItem);

    /// <summary>The path as records and log lines show it: at most <see cref="MaxPath"/> characters.</summary>
    public static string ShortPath(HttpContext http) => InvocationAudit.Shorten(http.Request.PathBase + http.Request.Path, MaxPath);

    /// <summary>Writes the refusal record of this call (once), and waits until it is durable.</summary>
    public async Task RecordAsync(HttpContext http, int status, string what)
    {
        if (IsRecorded(http))
        {
            return;
        }
        http.Items[InvocationAudit.RecordedItem] = true;
        Telemetry.Metrics.Refusals.Add(1, new("http.response.status_code", status), new("stage", "gate"));
        // The path is in the record once: as its service id when it names none of ours, else here.
        var service = ServiceOf(http);
        var path = service == ShortPath(http) ? "" : " " + ShortPath(http);
        await Write(service, http.CallingClient(), status, $"{http.Request.Method}{path}: {what} (from {CallerLimits.AddressOf(http)})", _time.GetUtcNow());
    }

    /// <summary>A 429: the first of a partition's window is recorded, later ones are counted into one record written
    /// when the window has passed (or with the partition's next episode).</summary>
    public async Task RateLimitedAsync(HttpContext http, string partition)
    {
        http.Items[InvocationAudit.RecordedItem] = true;
        Telemetry.Metrics.Refusals.Add(1, new("http.response.status_code", 429), new("stage", "rate-limit"));
        var now = _time.GetUtcNow();
        Episode? ended;
        lock (_gate)
        {
            if (_episodes.TryGetValue(partition, out var current) && now - current.Started < _callers.Value.Window)
            {
                current.Further++;
                current.Last = now;
                return;
            }
            ended = current;
            _episodes[partition] = new Episode(now, ServiceOf(http), partition);
        }
        if (ended is { Further: > 0 })
        {
            await WriteEnd(ended);
        }
        TrustLog.RateLimited(_logger, InvocationAudit.Shorten(partition, 100), http.Request.Method, ShortPath(http));
        await Write(ServiceOf(http), http.CallingClient(), StatusCodes.Status429TooManyRequests,
            $"{http.Request.Method} {ShortPath(http)}: over the rate of {partition}; further refusals in this window are counted in one record", now);
    }

    private async Task FlushAsync(bool all)
    {
        var now = _time.GetUtcNow();
        List<Episode> ended;
        lock (_gate)
        {
            ended = _episodes.Values.Where(e => all || now - e.Started >= _callers.Value.Window).ToList();
            foreach (var episode in ended)
            {
                _episodes.Remove(episode.Partition);
            }
        }
        foreach (var episode in ended.Where(e => e.Further > 0))
        {
            await WriteEnd(episode);
        }
    }

    private Task WriteEnd(Episode episode)
    {
        TrustLog.RateLimitEpisode(_logger, InvocationAudit.Shorten(episode.Partition, 100), episode.Further);
        return Write(episode.Service, CallingClient.Unverified, StatusCodes.Status429TooManyRequests,
            $"{episode.Further} further calls over the rate of {episode.Partition} refused with 429 between {episode.Started:O} and {episode.Last:O}", episode.Last);
    }

    private async Task Write(string service, CallingClient client, int status, string reason, DateTimeOffset at)
    {
        try
        {
            await _audit.RecordRefusalAsync(service, client, status, reason, at);
        }
        catch (InvalidOperationException e)
        {
            // The refusal stands either way; the log says its record could not be kept.
            TrustLog.RefusalNotRecorded(_logger, status, e.GetType().Name);
        }
    }

    /// <summary>One of our service ids when the path names one, else the path itself, shortened.</summary>
    private string ServiceOf(HttpContext http)
    {
        var path = http.Request.Path;
        if (path.StartsWithSegments("/cds-services", out var rest) && rest.Value is { Length: > 1 } tail)
        {
            var id = tail[1..].Split('/', 2)[0];
            if (_registry.Find(id) is not null)
            {
                return id;
            }
        }
        return ShortPath(http);
    }

    public void Dispose() => _sweep.Dispose();
}

public static class RefusalAuditing
{
    /// <summary>Every answer under /cds-services with a 4xx or 5xx status leaves an audit record: whatever the hook handler,
    /// the authentication handler or the rate limiter did not record is recorded here, after the status is final.</summary>
    public static WebApplication UseRefusalAudit(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/cds-services"), branch => branch.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            finally
            {
                if (http.Response.StatusCode >= 400 && !RefusalAudit.IsRecorded(http))
                {
                    await http.RequestServices.GetRequiredService<RefusalAudit>().RecordAsync(http, http.Response.StatusCode, $"answered {http.Response.StatusCode}");
                }
            }
        }));
        return app;
    }
}
