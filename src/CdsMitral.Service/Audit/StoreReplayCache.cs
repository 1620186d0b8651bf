using CdsMitral.Service.Trust;

namespace CdsMitral.Service.Audit;

/// <summary>With PostgreSQL, the jti cache lives in the database: a token replayed to another instance is refused too.
/// If the database cannot be asked, this instance's own memory still refuses replays to it.</summary>
public sealed class StoreReplayCache(AuditStore store, InMemoryReplayCache local, ILogger<StoreReplayCache> logger) : IReplayCache
{
    public async ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        var locallyNew = await local.TryRecordAsync(issuer, jti, expires, cancellationToken);
        try
        {
            return await store.TryRecordJtiAsync(issuer, jti, expires, cancellationToken) && locallyNew;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            AuditLog.StoreUnavailable(logger, e.GetType().Name, "replay cache falls back to this instance's memory");
            return locallyNew;
        }
    }
}
