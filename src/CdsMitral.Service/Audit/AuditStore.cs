using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

public sealed record AuditFilter(
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Service = null, string? Patient = null, string? User = null,
    string? Rule = null, string? Indicator = null, string? Feedback = null, int? Status = null);

public sealed record InvocationRow(
    string EventId, DateTimeOffset At, string ServiceId, string? Hook, string? HookInstance, string? PatientId, string? UserId,
    string? ClientIssuer, int Status, IReadOnlyList<string> RuleIds, IReadOnlyList<string> Indicators, IReadOnlyList<string> FeedbackOutcomes);

public sealed record StoredEvent(long Seq, string Id, string Kind, DateTimeOffset At, string Document, string PrevHash, string Hash);

/// <summary>
/// Reads and writes the audit chain. An append takes the chain lock, gives each event the next sequence number and a
/// SHA-256 over the previous hash and its own content, writes the index rows, and commits — all or nothing.
/// </summary>
public sealed class AuditStore(AuditDatabase db)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public enum Appended { Written, Duplicate }

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>SHA-256 over the UTF-8 of "prev\nseq\nid\nkind\nat\ndocument", fed in parts through one pooled buffer
    /// rather than by building the joined string and its bytes (a record is several kilobytes).</summary>
    public static string Hash(string prevHash, long seq, string id, string kind, string at, string document)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(Math.Max(document.Length, 256)));
        try
        {
            void Add(string part, bool last = false)
            {
                var length = Encoding.UTF8.GetBytes(part, buffer);
                if (!last)
                {
                    buffer[length++] = (byte)'\n';
                }
                sha.AppendData(buffer, 0, length);
            }
            Add(prevHash);
            Add(seq.ToString(CultureInfo.InvariantCulture));
            Add(id);
            Add(kind);
            Add(at);
            Add(document, last: true);
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <param name="replay">True when moving spooled entries: some may already be in the store (a crash between the
    /// move and the truncation), so each id is checked. Fresh entries carry new ids and skip the check.</param>
    public async Task<IReadOnlyList<Appended>> AppendAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken, bool replay = false)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await AppendAsync(connection, entries, cancellationToken, replay);
    }

    /// <summary>Appends on a connection the caller keeps open (the writer's own, so that a batch does not pay for opening one).</summary>
    public async Task<IReadOnlyList<Appended>> AppendAsync(DbConnection connection, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken, bool replay = false)
    {
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        var results = await AppendInTransaction(connection, transaction, entries, replay, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return results;
    }

    private async Task<List<Appended>> AppendInTransaction(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditEntry> entries, bool replay, CancellationToken cancellationToken)
    {
        long seq;
        string hash;
        await using (var head = AuditDatabase.Command(connection, transaction, db.LockHeadSql))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (seq, hash) = (reader.GetInt64(0), reader.GetString(1));
        }
        var results = new List<Appended>(entries.Count);
        var keysInBatch = new HashSet<string>(StringComparer.Ordinal);
        var events = new List<object?[]>();
        var invocations = new List<object?[]>();
        var cards = new List<object?[]>();
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
            var next = Hash(hash, seq, id, entry.Kind, at, entry.Document);
            events.Add([seq, id, entry.Kind, at, entry.Document, hash, next]);
            IndexRows(id, at, entry, invocations, cards, feedback);
            hash = next;
            results.Add(Appended.Written);
        }
        await InsertRows(connection, transaction, "audit_events", ["seq", "id", "kind", "at", "document", "prev_hash", "hash"], events, cancellationToken);
        await InsertRows(connection, transaction, "invocations",
            ["event_id", "at", "service_id", "hook", "hook_instance", "patient_id", "user_id", "client_issuer", "status", "rule_ids", "indicators"], invocations, cancellationToken);
        await InsertRows(connection, transaction, "cards", ["card_uuid", "event_id", "rule_id", "indicator"], cards, cancellationToken);
        await InsertRows(connection, transaction, "feedback", ["event_id", "dedupe_key", "card_uuid", "invocation_event_id", "outcome", "at", "known_card"], feedback, cancellationToken);
        await AuditDatabase.Execute(connection, transaction, "UPDATE chain_head SET seq = @seq, hash = @hash WHERE id = 1", cancellationToken, ("seq", seq), ("hash", hash));
        return results;
    }

    private static void IndexRows(string id, string at, AuditEntry entry, List<object?[]> invocations, List<object?[]> cards, List<object?[]> feedback)
    {
        if (entry.Invocation is { } i)
        {
            var shown = i.Cards ?? [];
            static string Set(IEnumerable<string> values) => "," + string.Join(",", values.Distinct()) + ",";
            invocations.Add([id, at, i.ServiceId, i.Hook, i.HookInstance, i.PatientId, i.UserId, i.Client.Issuer, i.Status,
                Set(shown.Select(c => c.Source.Topic?.Code ?? "")), Set(shown.Select(c => c.Indicator))]);
            cards.AddRange(shown.Select(card => new object?[] { card.Uuid, id, card.Source.Topic?.Code ?? "", card.Indicator }));
        }
        if (entry.Feedback is { } f)
        {
            feedback.Add([id, f.DedupeKey, f.Card, f.InvocationId, f.Outcome, at, f.KnownCard ? 1 : 0]);
        }
    }

    private async Task InsertRows(DbConnection connection, DbTransaction transaction, string table, string[] columns, List<object?[]> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        if (!db.IsPostgres)
        {
            // SQLite: one prepared statement, run once per row. It resolves named parameters by a linear search, so a
            // multi-row INSERT with hundreds of them costs quadratically (measured: ~200 µs of CPU per record at 32 per
            // commit); a reused statement is prepared once and binds a handful of values per row. No round trips here.
            await using var command = AuditDatabase.Command(connection, transaction,
                $"INSERT INTO {table} ({string.Join(",", columns)}) VALUES ({string.Join(",", columns.Select((_, c) => $"@p{c}"))})",
                [.. columns.Select((_, c) => ($"p{c}", (object?)null))]);
            command.Prepare();
            foreach (var row in rows)
            {
                for (var c = 0; c < columns.Length; c++)
                {
                    command.Parameters[c].Value = row[c] ?? DBNull.Value;
                }
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return;
        }
        // PostgreSQL: one multi-row INSERT per table, so that a batch costs a handful of round trips, not several per
        // record. Up to tens of thousands of parameters per statement are allowed; chunks of 500 rows stay far below.
        foreach (var chunk in rows.Chunk(500))
        {
            var parameters = new List<(string, object?)>(chunk.Length * columns.Length);
            var values = new StringBuilder();
            for (var r = 0; r < chunk.Length; r++)
            {
                values.Append(r == 0 ? "(" : ",(");
                for (var c = 0; c < columns.Length; c++)
                {
                    var name = $"p{r}_{c}";
                    values.Append(c == 0 ? "@" : ",@").Append(name);
                    parameters.Add((name, chunk[r][c]));
                }
                values.Append(')');
            }
            await AuditDatabase.Execute(connection, transaction, $"INSERT INTO {table} ({string.Join(",", columns)}) VALUES {values}", cancellationToken, [.. parameters]);
        }
    }

    private static async Task<bool> Exists(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = AuditDatabase.Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>The invocation a card was shown in, if the card is on record.</summary>
    public async Task<string?> FindCardInvocationAsync(string cardUuid, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null, "SELECT event_id FROM cards WHERE card_uuid = @u", ("u", cardUuid));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<bool> HasFeedbackAsync(string dedupeKey, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await Exists(connection, null, "SELECT 1 FROM feedback WHERE dedupe_key = @k", cancellationToken, ("k", dedupeKey));
    }

    // ---- queries for auditors ----------------------------------------------------------------------------------

    private static (string Where, List<(string, object?)> Parameters) Where(AuditFilter f)
    {
        var clauses = new List<string>();
        var parameters = new List<(string, object?)>();
        void Add(string clause, string name, object? value)
        {
            clauses.Add(clause);
            parameters.Add((name, value));
        }
        if (f.From is { } from) Add("i.at >= @from", "from", Timestamp(from));
        if (f.To is { } to) Add("i.at < @to", "to", Timestamp(to));
        if (!string.IsNullOrWhiteSpace(f.Service)) Add("i.service_id = @svc", "svc", f.Service);
        if (!string.IsNullOrWhiteSpace(f.Patient)) Add("i.patient_id = @pat", "pat", f.Patient);
        if (!string.IsNullOrWhiteSpace(f.User)) Add("i.user_id = @usr", "usr", f.User);
        if (!string.IsNullOrWhiteSpace(f.Rule)) Add("i.rule_ids LIKE @rule", "rule", $"%,{f.Rule},%");
        if (!string.IsNullOrWhiteSpace(f.Indicator)) Add("i.indicators LIKE @ind", "ind", $"%,{f.Indicator},%");
        if (!string.IsNullOrWhiteSpace(f.Feedback)) Add("EXISTS (SELECT 1 FROM feedback fb WHERE fb.invocation_event_id = i.event_id AND fb.outcome = @fo)", "fo", f.Feedback);
        if (f.Status is { } status) Add("i.status = @st", "st", status);
        return (clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses), parameters);
    }

    private string Outcomes => db.IsPostgres
        ? "(SELECT string_agg(fb.outcome, ',') FROM feedback fb WHERE fb.invocation_event_id = i.event_id)"
        : "(SELECT group_concat(fb.outcome, ',') FROM feedback fb WHERE fb.invocation_event_id = i.event_id)";

    public async Task<(IReadOnlyList<InvocationRow> Rows, long Total)> ListAsync(AuditFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        var (where, parameters) = Where(filter);
        await using var connection = await db.OpenAsync(cancellationToken);
        long total;
        await using (var count = AuditDatabase.Command(connection, null, $"SELECT count(*) FROM invocations i {where}", [.. parameters]))
        {
            total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        var rows = new List<InvocationRow>();
        parameters.Add(("lim", pageSize));
        parameters.Add(("off", Math.Max(0, page - 1) * pageSize));
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT i.event_id, i.at, i.service_id, i.hook, i.hook_instance, i.patient_id, i.user_id, i.client_issuer, i.status, i.rule_ids, i.indicators, {Outcomes} " +
            $"FROM invocations i {where} ORDER BY i.at DESC, i.event_id LIMIT @lim OFFSET @off", [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Row(reader));
        }
        return (rows, total);
    }

    /// <summary>Every document matching the filter, oldest first, read in a stream (an export can be large).</summary>
    public async IAsyncEnumerable<(InvocationRow Row, string Document)> ExportAsync(AuditFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (where, parameters) = Where(filter);
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT i.event_id, i.at, i.service_id, i.hook, i.hook_instance, i.patient_id, i.user_id, i.client_issuer, i.status, i.rule_ids, i.indicators, {Outcomes}, e.document " +
            $"FROM invocations i JOIN audit_events e ON e.id = i.event_id {where} ORDER BY i.at, i.event_id", [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (Row(reader), reader.GetString(12));
        }
    }

    private static InvocationRow Row(DbDataReader r)
    {
        static IReadOnlyList<string> Split(string? s) => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new InvocationRow(r.GetString(0), DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture), r.GetString(2), Text(3), Text(4), Text(5), Text(6), Text(7),
            Convert.ToInt32(r.GetValue(8), CultureInfo.InvariantCulture), Split(Text(9)), Split(Text(10)), Split(Text(11)));
    }

    /// <summary>An invocation's own event and the feedback events tied to it.</summary>
    public async Task<(StoredEvent Invocation, IReadOnlyList<StoredEvent> Feedback)?> GetAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var invocation = await Events(connection, "SELECT e.seq, e.id, e.kind, e.at, e.document, e.prev_hash, e.hash FROM audit_events e JOIN invocations i ON i.event_id = e.id WHERE e.id = @id", cancellationToken, ("id", eventId)).FirstOrDefaultAsync(cancellationToken);
        if (invocation is null)
        {
            return null;
        }
        var feedback = await Events(connection, "SELECT e.seq, e.id, e.kind, e.at, e.document, e.prev_hash, e.hash FROM audit_events e JOIN feedback f ON f.event_id = e.id WHERE f.invocation_event_id = @id ORDER BY e.seq", cancellationToken, ("id", eventId)).ToListAsync(cancellationToken);
        return (invocation, feedback);
    }

    /// <summary>Feedback about cards that are not on record: stored and flagged, for an auditor to look at.</summary>
    public async Task<IReadOnlyList<StoredEvent>> UnmatchedFeedbackAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await Events(connection, "SELECT e.seq, e.id, e.kind, e.at, e.document, e.prev_hash, e.hash FROM audit_events e JOIN feedback f ON f.event_id = e.id WHERE f.known_card = 0 ORDER BY e.seq DESC LIMIT @lim", cancellationToken, ("lim", limit)).ToListAsync(cancellationToken);
    }

    private static async IAsyncEnumerable<StoredEvent> Events(DbConnection connection, string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = AuditDatabase.Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new StoredEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
                reader.GetString(4), reader.GetString(5), reader.GetString(6));
        }
    }

    // ---- tamper evidence -----------------------------------------------------------------------------------------

    private ChainReport? _lastReport;

    /// <summary>The chain report the audit pages show. Walking the whole chain on every page would cost as the trail
    /// grows: a report is reused for a minute unless <paramref name="fresh"/> asks for a new walk.</summary>
    public async Task<ChainReport> ReportAsync(TimeProvider time, bool fresh, CancellationToken cancellationToken)
    {
        if (fresh || _lastReport is not { } last || time.GetUtcNow() - last.CheckedAt > TimeSpan.FromMinutes(1))
        {
            _lastReport = await VerifyAsync(time, cancellationToken);
        }
        return _lastReport;
    }

    /// <summary>Walks the chain from its anchor: each event must follow the one before (no gap), name its hash, and
    /// hash to what it says. Reports the first break.</summary>
    public async Task<ChainReport> VerifyAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        string expected;
        long expectedSeq;
        long headSeq;
        string headHash;
        await using (var head = AuditDatabase.Command(connection, null, "SELECT anchor, anchor_seq, seq, hash FROM chain_head WHERE id = 1"))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (expected, expectedSeq, headSeq, headHash) = (reader.GetString(0), reader.GetInt64(1) + 1, reader.GetInt64(2), reader.GetString(3));
        }
        long count = 0;
        await foreach (var e in Events(connection, "SELECT seq, id, kind, at, document, prev_hash, hash FROM audit_events ORDER BY seq", cancellationToken))
        {
            count++;
            string? problem = e.Seq != expectedSeq ? $"expected event {expectedSeq}, found {e.Seq}: events are missing or were inserted"
                : e.PrevHash != expected ? "its previous-hash does not match the event before it"
                : Hash(e.PrevHash, e.Seq, e.Id, e.Kind, Timestamp(e.At), e.Document) != e.Hash ? "its content does not match its hash (altered)"
                : null;
            if (problem is not null)
            {
                return new ChainReport(false, count, e.Seq, problem, time.GetUtcNow());
            }
            expected = e.Hash;
            expectedSeq++;
        }
        if (expectedSeq - 1 != headSeq || expected != headHash)
        {
            return new ChainReport(false, count, expectedSeq, "the chain ends before its recorded head: the latest events are missing", time.GetUtcNow());
        }
        return new ChainReport(true, count, null, null, time.GetUtcNow());
    }

    // ---- retention -----------------------------------------------------------------------------------------------

    /// <summary>Removes the oldest events (a prefix of the chain, so what stays still verifies from a recorded anchor)
    /// and records the purge as an event of its own.</summary>
    public async Task<PurgeRecord?> PurgeAsync(DateTimeOffset olderThan, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        await using (var head = AuditDatabase.Command(connection, transaction, db.LockHeadSql))
        {
            await head.ExecuteScalarAsync(cancellationToken); // take the chain lock first
        }
        await using var first = AuditDatabase.Command(connection, transaction,
            "SELECT min(seq) FROM audit_events WHERE at >= @cut", ("cut", Timestamp(olderThan)));
        var firstKept = await first.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull
            ? Convert.ToInt64(v, CultureInfo.InvariantCulture)
            : long.MaxValue;
        await using var anchorCommand = AuditDatabase.Command(connection, transaction,
            "SELECT seq, hash FROM audit_events WHERE seq < @first ORDER BY seq DESC LIMIT 1", ("first", firstKept));
        long lastRemoved;
        string anchor;
        await using (var reader = await anchorCommand.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null; // nothing old enough
            }
            (lastRemoved, anchor) = (reader.GetInt64(0), reader.GetString(1));
        }
        foreach (var table in new[] { "feedback", "cards", "invocations" })
        {
            await AuditDatabase.Execute(connection, transaction,
                $"DELETE FROM {table} WHERE event_id IN (SELECT id FROM audit_events WHERE seq <= @last)", cancellationToken, ("last", lastRemoved));
        }
        var removed = await AuditDatabase.Execute(connection, transaction, "DELETE FROM audit_events WHERE seq <= @last", cancellationToken, ("last", lastRemoved));
        await AuditDatabase.Execute(connection, transaction, "UPDATE chain_head SET anchor = @a, anchor_seq = @s WHERE id = 1", cancellationToken, ("a", anchor), ("s", lastRemoved));
        var record = new PurgeRecord(time.GetUtcNow(), olderThan, removed, lastRemoved + 1, anchor);
        await AppendInTransaction(connection, transaction,
            [new AuditEntry(Guid.CreateVersion7(), EventKind.Purge, record.At, JsonSerializer.Serialize(record, AuditJson.Default.PurgeRecord))], replay: false, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return record;
    }

    // ---- the shared JWT replay cache (PostgreSQL mode) ------------------------------------------------------------

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
