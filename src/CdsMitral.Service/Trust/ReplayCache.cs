using System.Collections.Concurrent;

namespace CdsMitral.Service.Trust;

/// <summary>Remembers each (iss, jti) until its token expires, so a JWT is accepted once.</summary>
public interface IReplayCache
{
    /// <summary>True when the pair is new (and is now remembered); false when it was seen before.</summary>
    ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken cancellationToken);
}

/// <summary>One instance's memory. With several instances behind a load balancer, a shared store is needed.</summary>
public sealed class InMemoryReplayCache(TimeProvider time) : IReplayCache
{
    private readonly ConcurrentDictionary<(string, string), DateTimeOffset> _seen = new();
    private long _nextSweep;

    public ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Sweep(now);
        var added = _seen.TryAdd((issuer, jti), expires);
        if (!added && _seen.TryGetValue((issuer, jti), out var until) && until < now)
        {
            // Expired entry not yet swept: the token it guarded can no longer be valid, so this is a new one.
            _seen[(issuer, jti)] = expires;
            added = true;
        }
        return ValueTask.FromResult(added);
    }

    private void Sweep(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweep, now.AddMinutes(1).UtcTicks, next) != next)
        {
            return;
        }
        foreach (var (key, until) in _seen)
        {
            if (until < now)
            {
                _seen.TryRemove(key, out _);
            }
        }
    }
}
