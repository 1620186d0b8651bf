namespace CdsMitral.Service.Audit;

/// <summary>The shared JWT replay cache (PostgreSQL mode): a token id is recorded once per issuer, and forgotten once
/// it has expired.</summary>
public sealed partial class AuditStore
{
    public async Task<bool> TryRecordJtiAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var inserted = await AuditDatabase.Execute(connection, null,
            "INSERT INTO replay_cache (issuer, jti, expires) VALUES (@i, @j, @e) ON CONFLICT (issuer, jti) DO NOTHING", cancellationToken,
            ("i", issuer), ("j", jti), ("e", Timestamp(expires)));
        return inserted == 1;
    }

    public async Task<int> ForgetExpiredJtisAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await AuditDatabase.Execute(connection, null, "DELETE FROM replay_cache WHERE expires < @now", cancellationToken, ("now", Timestamp(now)));
    }
}
