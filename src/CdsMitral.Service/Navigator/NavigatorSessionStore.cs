using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CdsMitral.Service.Audit;

namespace CdsMitral.Service.Navigator;

/// <summary>The navigator_launches and navigator_sessions tables beside the audit chain (SQLite or PostgreSQL, the same
/// SQL). Rows are keyed by a hash of the random id: the database never holds a cookie or a state's launch id.</summary>
public sealed class NavigatorSessionStore(AuditDatabase database)
{
    public async Task AddLaunchAsync(string id, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await AuditDatabase.Execute(connection, null, "INSERT INTO navigator_launches (id, expires_at) VALUES (@id, @expires)", cancellationToken,
            ("id", Key(id)), ("expires", Text(expires)));
    }

    /// <summary>Removes the launch and says whether it was there and not expired: one instance wins a replayed state.</summary>
    public async Task<bool> TakeLaunchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null, "DELETE FROM navigator_launches WHERE id = @id RETURNING expires_at", ("id", Key(id)));
        return await command.ExecuteScalarAsync(cancellationToken) is string expires && string.CompareOrdinal(expires, Text(now)) >= 0;
    }

    public async Task SaveSessionAsync(string id, DateTimeOffset expires, string state, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await AuditDatabase.Execute(connection, null,
            "INSERT INTO navigator_sessions (id, expires_at, state) VALUES (@id, @expires, @state) " +
            "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, state = excluded.state", cancellationToken,
            ("id", Key(id)), ("expires", Text(expires)), ("state", state));
    }

    /// <summary>The stored state of a live session, or null; an expired row is deleted on sight, with its token.</summary>
    public async Task<string?> LoadSessionAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        string? state = null;
        var expired = false;
        await using (var command = AuditDatabase.Command(connection, null, "SELECT expires_at, state FROM navigator_sessions WHERE id = @id", ("id", Key(id))))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                expired = string.CompareOrdinal(reader.GetString(0), Text(now)) <= 0;
                state = expired ? null : reader.GetString(1);
            }
        }
        if (expired)
        {
            await AuditDatabase.Execute(connection, null, "DELETE FROM navigator_sessions WHERE id = @id", cancellationToken, ("id", Key(id)));
        }
        return state;
    }

    /// <summary>Deletes every expired launch and session (their tokens with them).</summary>
    public async Task SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await AuditDatabase.Execute(connection, null, "DELETE FROM navigator_sessions WHERE expires_at <= @now", cancellationToken, ("now", Text(now)));
        await AuditDatabase.Execute(connection, null, "DELETE FROM navigator_launches WHERE expires_at < @now", cancellationToken, ("now", Text(now)));
    }

    private static string Key(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    private static string Text(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
