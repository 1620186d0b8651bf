using System.Data.Common;
using System.Text;

namespace CdsMitral.Service.Audit;

/// <summary>How an append's rows reach the database: statements prepared once per connection and run once per row
/// (SQLite), multi-row INSERTs sent as one batch (PostgreSQL).</summary>
public sealed partial class AuditStore
{
    // The statements of an append, prepared once per connection and kept with it: the writer appends on one connection
    // for its whole life, and parsing and planning five statements at every commit cost more than binding them.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbConnection, Dictionary<string, DbCommand>> _prepared = new();

    /// <summary>A prepared statement of this connection with <paramref name="parameters"/> parameters named p0…pN,
    /// enlisted in <paramref name="transaction"/>. PostgreSQL uses it only for the head; its rows go as one batch.</summary>
    private DbCommand Prepared(DbConnection connection, DbTransaction? transaction, string sql, int parameters)
    {
        var statements = _prepared.GetOrCreateValue(connection);
        if (!statements.TryGetValue(sql, out var command))
        {
            command = AuditDatabase.Command(connection, transaction, sql, [.. Enumerable.Range(0, parameters).Select(c => ($"p{c}", (object?)null))]);
            command.Prepare();
            statements[sql] = command;
        }
        command.Transaction = transaction;
        return command;
    }

    /// <param name="eventColumn">When given, a row is inserted only if the event that column names is in audit_events.</param>
    private async Task InsertRows(DbConnection connection, DbTransaction transaction, string table, string[] columns, List<object?[]> rows, CancellationToken cancellationToken, int? eventColumn = null)
    {
        if (rows.Count == 0)
        {
            return;
        }
        // SQLite: one prepared statement, run once per row. It resolves named parameters by a linear search, so a
        // multi-row INSERT with hundreds of them costs quadratically (measured: ~200 µs of CPU per record at 32 per
        // commit); a reused statement binds a handful of values per row. No round trips here.
        // The document comes as UTF-8, which Microsoft.Data.Sqlite binds as a BLOB: the cast stores the same bytes as TEXT
        // (the database's encoding, UTF-8), exactly what binding its string stored.
        var values = string.Join(",", columns.Select((column, c) => column == "document" ? $"CAST(@p{c} AS TEXT)" : $"@p{c}"));
        var command = Prepared(connection, transaction, eventColumn is { } e
            ? $"INSERT INTO {table} ({string.Join(",", columns)}) SELECT {values} WHERE EXISTS (SELECT 1 FROM audit_events WHERE id = @p{e})"
            : $"INSERT INTO {table} ({string.Join(",", columns)}) VALUES ({values})", columns.Length);
        foreach (var row in rows)
        {
            for (var c = 0; c < columns.Length; c++)
            {
                command.Parameters[c].Value = row[c] is Utf8Text text ? text.Bytes : row[c] ?? DBNull.Value;
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>PostgreSQL: one multi-row INSERT per table and 500 rows, positional parameters, added to the batch.</summary>
    private static void AddInserts(Npgsql.NpgsqlBatch batch, string table, string[] columns, List<object?[]> rows)
    {
        foreach (var chunk in rows.Chunk(500))
        {
            var values = new StringBuilder();
            var parameters = new List<object?>(chunk.Length * columns.Length);
            for (var r = 0; r < chunk.Length; r++)
            {
                values.Append(r == 0 ? "(" : ",(");
                for (var c = 0; c < columns.Length; c++)
                {
                    parameters.Add(chunk[r][c]);
                    values.Append(c == 0 ? "$" : ",$").Append(parameters.Count);
                }
                values.Append(')');
            }
            batch.BatchCommands.Add(PostgresCommand($"INSERT INTO {table} ({string.Join(",", columns)}) VALUES {values}", parameters));
        }
    }

    private static Npgsql.NpgsqlBatchCommand PostgresCommand(string sql, IReadOnlyList<object?> values)
    {
        var command = new Npgsql.NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            // Npgsql writes a byte[] typed as text as it is: the document's UTF-8, no string encoded again.
            command.Parameters.Add(value is Utf8Text text
                ? new Npgsql.NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = text.Bytes }
                : new Npgsql.NpgsqlParameter { Value = value ?? DBNull.Value });
        }
        return command;
    }

    private static async Task<bool> Exists(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = AuditDatabase.Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
