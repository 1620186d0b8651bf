using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Service.Trust;

/// <summary>JWK Sets by URL: fetched on first use, kept for a lifetime, and refreshed early when a token names a kid
/// the set does not hold — at most once per refresh interval, so unknown kids cannot make us hammer a client's server.</summary>
public sealed class JwksCache(HttpClient http, IOptions<TrustOptions> options, TimeProvider time, ILogger<JwksCache> logger) : IDisposable
{
    public const string HttpClientName = "jwks";
    private const long MaxJwksBytes = 1024 * 1024;

    private sealed class Entry : IDisposable
    {
        public JsonWebKeySet? Keys;
        public DateTimeOffset FetchedAt;
        public DateTimeOffset LastAttempt = DateTimeOffset.MinValue;
        public readonly SemaphoreSlim Gate = new(1, 1);

        public void Dispose() => Gate.Dispose();
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async Task<SecurityKey?> FindKeyAsync(string url, string kid, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(url, _ => new Entry());
        var now = time.GetUtcNow();
        var fresh = entry.Keys is not null && now - entry.FetchedAt < options.Value.JwksCacheLifetime;
        if (fresh && Find(entry.Keys!, kid) is { } cached)
        {
            return cached;
        }
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            now = time.GetUtcNow();
            if (entry.Keys is not null && now - entry.FetchedAt < options.Value.JwksCacheLifetime && Find(entry.Keys, kid) is { } found)
            {
                return found;
            }
            if (now - entry.LastAttempt < options.Value.JwksRefreshInterval)
            {
                return entry.Keys is null ? null : Find(entry.Keys, kid);
            }
            entry.LastAttempt = now;
            if (await FetchAsync(url, cancellationToken) is { } keys)
            {
                entry.Keys = keys;
                entry.FetchedAt = now;
            }
            return entry.Keys is null ? null : Find(entry.Keys, kid);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Dispose();
        }
    }

    public static SecurityKey? Find(JsonWebKeySet set, string kid) =>
        set.Keys.FirstOrDefault(k => k.Kid == kid && k.Use is null or "sig");

    private async Task<JsonWebKeySet?> FetchAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > MaxJwksBytes)
            {
                TrustLog.JwksFetchFailed(logger, url, $"HTTP {(int)response.StatusCode}");
                return null;
            }
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (text.Length > MaxJwksBytes)
            {
                TrustLog.JwksFetchFailed(logger, url, "too large");
                return null;
            }
            return new JsonWebKeySet(text);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or ArgumentException or System.Text.Json.JsonException)
        {
            TrustLog.JwksFetchFailed(logger, url, e.GetType().Name);
            return null;
        }
    }
}
