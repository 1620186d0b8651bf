using System.Data.Common;

namespace CdsMitral.Service.Audit;

/// <summary>The chain's write path: an append gives each event the next sequence number and its HMAC over the previous
/// hash, writes its rows and the new head in one commit, and keeps the head this process committed.</summary>
public sealed partial class AuditStore
{
    /// <param name="replay">True when moving spooled entries: some may already be in the store (a crash between the
    /// move and the truncation), so each id is checked. Fresh entries carry new ids and skip the check.</param>
    public async Task<IReadOnlyList<Appended>> AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken, bool replay = false)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await AppendAsync(connection, entries, cancellationToken, replay);
    }

    /// <summary>Appends on a connection the caller keeps open (the writer's own, so that a batch does not pay for opening one).</summary>
    /// <param name="deferred">Where the invocation and card rows go instead of into this transaction (the SQLite
    /// writer's pending index, written by <see cref="WriteIndexAsync"/>); they are added only once the commit is done.</param>
    public async Task<IReadOnlyList<Appended>> AppendAsync(DbConnection connection, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken, bool replay = false, PendingIndex? deferred = null)
    {
        // PostgreSQL: from the head this connection last committed, the rows and the new head go in one batch, one round
        // trip, one implicit transaction. If another instance moved the chain meanwhile, the next seq is taken and the
        // batch fails whole on its key: then the head is read under its lock, as below.
        if (connection is Npgsql.NpgsqlConnection && !replay && _lastCommitted.TryGetValue(connection, out var from) && entries.All(e => e.Feedback is null))
        {
            try
            {
                var (written, moved) = await AppendInTransaction(connection, null, entries, replay: false, cancellationToken, from: from);
                Committed(moved);
                _lastCommitted.AddOrUpdate(connection, moved);
                return written;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState is Npgsql.PostgresErrorCodes.UniqueViolation or Npgsql.PostgresErrorCodes.DivisionByZero)
            {
                _lastCommitted.Remove(connection);
            }
        }
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        var later = deferred is null ? null : new PendingIndex();
        var (results, head) = await AppendInTransaction(connection, transaction, entries, replay, cancellationToken, later);
        await transaction.CommitAsync(cancellationToken);
        Committed(head);
        deferred?.Take(later!, head.Seq);
        if (connection is Npgsql.NpgsqlConnection)
        {
            _lastCommitted.AddOrUpdate(connection, head);
        }
        return results;
    }

    // The head each PostgreSQL connection last committed: where its next batch starts without reading the head.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbConnection, ChainPosition> _lastCommitted = new();

    /// <summary>Runs an append of <paramref name="entry"/> and rolls it back: the warm-up's way through the write path
    /// (statements, binding, hashing) that leaves nothing in the store and does not move the chain.</summary>
    public async Task RehearseAppendAsync(DbConnection connection, AuditEntry entry, CancellationToken cancellationToken)
    {
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        // SQLite answers after the event and head only and writes the index rows later: rehearse both halves.
        var later = connection is Npgsql.NpgsqlConnection ? null : new PendingIndex();
        await AppendInTransaction(connection, transaction, [entry], replay: false, cancellationToken, later);
        if (later is not null)
        {
            await InsertRows(connection, transaction, "invocations", InvocationColumns, later.Invocations, cancellationToken, eventColumn: 0);
            await InsertRows(connection, transaction, "cards", CardColumns, later.Cards, cancellationToken, eventColumn: 1);
        }
        await transaction.RollbackAsync(cancellationToken);
    }

    private readonly Lock _headLock = new();
    private ChainPosition? _head;

    /// <summary>The newest point of the chain this process has committed: what its next checkpoint signs. Taken from
    /// its own appends, not read back from the head row, which a database writer could have rewritten.</summary>
    public ChainPosition? Head => _head;

    private void Committed(ChainPosition head)
    {
        lock (_headLock)
        {
            if (_head is null || head.Seq > _head.Seq)
            {
                _head = head;
            }
        }
    }

    /// <param name="from">PostgreSQL only: the head to continue from without a transaction or a locked read (see AppendAsync).</param>
    private async Task<(List<Appended> Results, ChainPosition Head)> AppendInTransaction(DbConnection connection, DbTransaction? transaction, IReadOnlyList<AuditEntry> entries, bool replay, CancellationToken cancellationToken, PendingIndex? later = null, ChainPosition? from = null)
    {
        long seq;
        string hash;
        if (from is not null)
        {
            (seq, hash) = (from.Seq, from.Hash);
        }
        else
        {
            var head = Prepared(connection, transaction, db.LockHeadSql, 0);
            await using var reader = await head.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (seq, hash) = (reader.GetInt64(0), reader.GetString(1));
        }
        var (startSeq, startHash) = (seq, hash);
        var key = keys.Current;
        var results = new List<Appended>(entries.Count);
        var keysInBatch = new HashSet<string>(StringComparer.Ordinal);
        var events = new List<object?[]>();
        var invocations = later?.Invocations ?? [];
        var cards = later?.Cards ?? [];
        var feedback = new List<object?[]>();
        foreach (var entry in entries)
        {
            var id = entry.Id.ToString();
            // Idempotent: a spooled record replayed after a crash, or a feedback item delivered twice, is written once.
            if (replay && await Exists(connection, transaction, "SELECT 1 FROM audit_events WHERE id = @id", cancellationToken, ("id", id))
                || entry.Feedback is { } f && (!keysInBatch.Add(f.DedupeKey)
                    || await Exists(connection, transaction, "SELECT 1 FROM feedback WHERE dedupe_key = @k", cancellationToken, ("k", f.DedupeKey))))
            {
                results.Add(Appended.Duplicate);
                continue;
            }
            seq++;
            var at = Timestamp(entry.At);
            var document = entry.Utf8Document;
            var next = key.Sign(hash, seq, id, entry.Kind, at, document);
            events.Add([seq, id, entry.Kind, at, new Utf8Text(document), hash, next, key.Id]);
            IndexRows(id, at, entry, invocations, cards, feedback);
            hash = next;
            results.Add(new Appended(seq));
        }
        (string Table, string[] Columns, List<object?[]> Rows)[] tables =
        [
            ("audit_events", ["seq", "id", "kind", "at", "document", "prev_hash", "hash", "key_id"], events),
            ("invocations", InvocationColumns, later is null ? invocations : []),
            ("cards", CardColumns, later is null ? cards : []),
            // Feedback rows stay in the commit: the next delivery of the same item must find its dedupe key.
            ("feedback", ["event_id", "dedupe_key", "card_uuid", "invocation_event_id", "outcome", "at", "known_card"], feedback),
        ];
        if (connection is Npgsql.NpgsqlConnection postgres)
        {
            // One round trip for every row of the batch and the new head, instead of one per table and statement.
            await using var batch = new Npgsql.NpgsqlBatch(postgres, (Npgsql.NpgsqlTransaction?)transaction);
            // The head first: a concurrent appender holds its row lock until it commits, and waiting for it there,
            // before any insert, cannot deadlock with it. A head that is not where this batch starts (another instance
            // appended, or the row was rewritten) divides by zero: the whole batch fails, and nothing is chained to it.
            batch.BatchCommands.Add(PostgresCommand(
                "WITH moved AS (UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4 RETURNING 1) SELECT 1 / count(*) FROM moved",
                [seq, hash, startSeq, startHash]));
            foreach (var (table, columns, rows) in tables)
            {
                AddInserts(batch, table, columns, rows);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return (results, new ChainPosition(seq, hash));
        }
        foreach (var (table, columns, rows) in tables)
        {
            await InsertRows(connection, transaction!, table, columns, rows, cancellationToken);
        }
        var update = Prepared(connection, transaction, HeadUpdateSql, 2);
        update.Parameters[0].Value = seq;
        update.Parameters[1].Value = hash;
        await update.ExecuteNonQueryAsync(cancellationToken);
        return (results, new ChainPosition(seq, hash));
    }

    /// <summary>A document's UTF-8, bound as it is and stored as TEXT: no string to encode again at every append.</summary>
    private sealed record Utf8Text(byte[] Bytes);

    private const string HeadUpdateSql = "UPDATE chain_head SET seq = @p0, hash = @p1 WHERE id = 1";
}
