using System.Data.Common;
using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>Verification of the chain: keys, index rows against documents, the head against the newest checkpoint.</summary>
public sealed partial class AuditStore
{
    // ---- tamper evidence -----------------------------------------------------------------------------------------

    /// <summary>How far this process has proved the chain intact: the event through which every event and its index rows
    /// were checked, and what the walk knew there. A check resumes from here rather than re-reading the chain.</summary>
    private sealed record Proved(long Seq, string Hash, long Count, long Legacy, IReadOnlyList<string> KeyIds, PurgeRecord? LastPurge,
        string Anchor, long AnchorSeq);

    private Proved? _proved;
    private DateTimeOffset? _lastFullWalk;
    private readonly OneAtATime<ChainReport> _walks = new();

    /// <summary>When this process last walked the whole chain (null: not yet).</summary>
    public DateTimeOffset? LastFullWalk => _lastFullWalk;

    private ChainReport? _lastReport;

    /// <summary>How long a list page waits for a full walk before it shows the last report instead.</summary>
    private static readonly TimeSpan PageWaitsForAWalk = TimeSpan.FromSeconds(2);

    /// <summary>The chain report a list page shows, without making the auditor wait minutes for a full walk: one that runs
    /// (the first check of a process is one, and takes minutes at a year of a health system) goes on in the background,
    /// and the page gets its result if it ends within two seconds, else the last report, or null when there is none yet.</summary>
    public async Task<ChainReport?> PageReportAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        if (!_walks.Running && _proved is not null)
        {
            return await VerifyAsync(time, full: false, cancellationToken);
        }
        // Nothing proved yet in this process, or a walk running: start one (it outlives this request), wait a little.
        var walk = VerifyAsync(time, full: false, CancellationToken.None);
        return await Task.WhenAny(walk, Task.Delay(PageWaitsForAWalk, time, cancellationToken)) == walk ? await walk : _lastReport;
    }

    private string CardRows => db.IsPostgres
        ? "(SELECT string_agg(c.card_uuid || chr(31) || c.rule_id || chr(31) || c.indicator, chr(30)) FROM cards c WHERE c.event_id = e.id)"
        : "(SELECT group_concat(c.card_uuid || char(31) || c.rule_id || char(31) || c.indicator, char(30)) FROM cards c WHERE c.event_id = e.id)";

    /// <summary>Walks the chain: each event must follow the one before (no gap), name its hash, hash (HMAC with the key it
    /// names) to what it says, and have exactly the index rows its document gives. Then the chain must reach its recorded
    /// head and its newest checkpoint. Reports the first break.
    /// <para>A full walk starts at the anchor and also finds index rows that belong to no event. Otherwise the walk
    /// resumes after the last event this process proved (its hash, the anchor and the head must still be what they were,
    /// or the walk is full), so its cost is what was added, not the chain's size. What a resumed walk cannot see is an
    /// event altered after it was proved: the full walk, on demand (<paramref name="full"/>) and every
    /// <c>Audit:FullVerifyInterval</c>, is for that.</para>
    /// <para>One walk at a time: a check that finds one running waits for it, then reads what it left.</para></summary>
    public Task<ChainReport> VerifyAsync(TimeProvider time, bool full, CancellationToken cancellationToken) =>
        _walks.RunAsync(() => WalkAsync(time, full, cancellationToken), cancellationToken);

    private async Task<ChainReport> WalkAsync(TimeProvider time, bool full, CancellationToken cancellationToken)
    {
        // The checkpoint first: one written while the chain is walked is of events the walk will see.
        var (checkpoint, checkpointProblem) = checkpoints?.ReadNewest(keys) ?? (null, null);
        await IndexCurrent(cancellationToken);
        await using var connection = await db.OpenAsync(cancellationToken);
        // One snapshot for the head row, the walk and the orphan count: an append between them is not a break.
        await using var snapshot = await AuditDatabase.BeginSnapshotAsync(connection, cancellationToken);
        string expected;
        long expectedSeq;
        long headSeq;
        string headHash;
        string anchor;
        long anchorSeq;
        await using (var head = AuditDatabase.Command(connection, snapshot, "SELECT anchor, anchor_seq, seq, hash FROM chain_head WHERE id = 1"))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (anchor, anchorSeq, headSeq, headHash) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3));
            (expected, expectedSeq) = (anchor, anchorSeq + 1);
        }
        // SQLite writes the index rows of the newest calls after their answers: events past index_head may not have
        // them yet (rows they do have must still be right). This process's own progress keeps index_head from being
        // moved back to hide deleted rows.
        var indexedThrough = long.MaxValue;
        if (!db.IsPostgres)
        {
            await using var index = AuditDatabase.Command(connection, snapshot, "SELECT seq FROM index_head WHERE id = 1");
            indexedThrough = Math.Max(Convert.ToInt64(await index.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture), IndexedThrough);
        }
        long count = 0, legacy = 0, read = 0;
        var keyIds = new SortedSet<string>(StringComparer.Ordinal);
        PurgeRecord? lastPurge = null;
        string? hashAtCheckpoint = checkpoint is not null && checkpoint.Seq == anchorSeq ? anchor : null;
        // Resume only where the chain still is as it was proved: a head no lower, the proved event unchanged, and the same
        // anchor, or one a purge moved within what was proved (the remaining events were proved with the rest; the new
        // anchor must be what the first of them follows, and the purge event must say so, checked at the end).
        if (!full && _proved is { } p && p.AnchorSeq <= anchorSeq && anchorSeq < p.Seq && p.Seq <= headSeq
            && (p.AnchorSeq == anchorSeq ? p.Anchor == anchor : await PrevHashAtAsync(connection, snapshot, anchorSeq + 1, cancellationToken) == anchor)
            && await HashAtAsync(connection, snapshot, p.Seq, cancellationToken) == p.Hash)
        {
            // Purged events leave the count; unkeyed (legacy) events are the chain's oldest, so they go first.
            var removed = anchorSeq - p.AnchorSeq;
            var proved = _proved = p with { Count = p.Count - removed, Legacy = Math.Max(0, p.Legacy - removed), Anchor = anchor, AnchorSeq = anchorSeq };
            (expected, expectedSeq, count, legacy, lastPurge) = (proved.Hash, proved.Seq + 1, proved.Count, proved.Legacy, proved.LastPurge);
            keyIds.UnionWith(proved.KeyIds);
            if (checkpoint is not null && checkpoint.Seq > anchorSeq && checkpoint.Seq <= proved.Seq)
            {
                hashAtCheckpoint = await HashAtAsync(connection, snapshot, checkpoint.Seq, cancellationToken);
            }
        }
        else
        {
            full = true;
        }
        var from = expectedSeq - 1;
        // Where the next check may resume: the newest event whose index rows were checked too.
        var resumeAt = Math.Min(headSeq, indexedThrough);
        Proved? reached = !full && resumeAt <= from ? _proved : null;
        ChainReport Broken(long? seq, string problem)
        {
            _proved = null; // until a full walk finds the chain whole again
            return _lastReport = new(false, count, seq, problem, time.GetUtcNow(), legacy, [.. keyIds], checkpoint, null, read, _lastFullWalk);
        }
        await using (var command = AuditDatabase.Command(connection, snapshot,
            $"SELECT {EventColumns}, {IndexColumns}, {CardRows}, f.event_id, f.dedupe_key, f.card_uuid, f.invocation_event_id, f.outcome, f.at, f.known_card " +
            "FROM audit_events e LEFT JOIN invocations i ON i.event_id = e.id LEFT JOIN feedback f ON f.event_id = e.id WHERE e.seq > @from ORDER BY e.seq",
            ("from", from)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = ReadEvent(reader);
                count++;
                read++;
                if (e.Seq != expectedSeq)
                {
                    return Broken(e.Seq, $"expected event {expectedSeq}, found {e.Seq}: events are missing or were inserted");
                }
                if (e.PrevHash != expected)
                {
                    return Broken(e.Seq, "its previous-hash does not match the event before it");
                }
                var (seal, isLegacy) = SealProblem(e);
                if (isLegacy && keyIds.Count > 0)
                {
                    return Broken(e.Seq, "it is unkeyed but follows keyed events: written or rewritten without the chain key");
                }
                if (seal is not null)
                {
                    return Broken(e.Seq, seal);
                }
                if (isLegacy)
                {
                    legacy++;
                }
                else
                {
                    keyIds.Add(e.KeyId!);
                }
                if (IndexProblem(e, reader, mayBePending: e.Seq > indexedThrough) is { } index)
                {
                    return Broken(e.Seq, index);
                }
                if (e.Kind == EventKind.Purge)
                {
                    lastPurge = ReadPurge(e.Document);
                }
                if (checkpoint is not null && e.Seq == checkpoint.Seq)
                {
                    hashAtCheckpoint = e.Hash;
                }
                expected = e.Hash;
                expectedSeq++;
                if (e.Seq == resumeAt)
                {
                    reached = new Proved(e.Seq, e.Hash, count, legacy, [.. keyIds], lastPurge, anchor, anchorSeq);
                }
            }
        }
        var lastSeq = expectedSeq - 1;
        if (lastSeq != headSeq || expected != headHash)
        {
            return Broken(expectedSeq, "the chain ends before its recorded head: the latest events are missing");
        }
        if (anchorSeq > 0 && (lastPurge is null || lastPurge.Anchor != anchor || lastPurge.FirstRemainingSeq != anchorSeq + 1))
        {
            return Broken(anchorSeq + 1, $"the chain starts after event {anchorSeq}, but no purge in it says so: its oldest events were removed");
        }
        // Index rows with no event: a query over every index table, so only on a full walk.
        if (full)
        {
            await using var orphans = AuditDatabase.Command(connection, snapshot,
            // NOT EXISTS, an anti-join: "NOT IN (SELECT id …)" is planned by PostgreSQL as a subplan per row once the ids
            // outgrow work_mem, and at 300,000 events it ran past the command timeout.
            "SELECT (SELECT count(*) FROM invocations x WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = x.event_id)) + " +
            "(SELECT count(*) FROM cards x WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = x.event_id)) + " +
            "(SELECT count(*) FROM feedback x WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = x.event_id))");
            var stray = Convert.ToInt64(await orphans.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (stray > 0)
            {
                return Broken(null, $"{stray} index rows belong to no event of the chain: inserted without it");
            }
        }
        if (checkpointProblem is not null)
        {
            return Broken(null, checkpointProblem);
        }
        if (checkpoint is not null && checkpoint.Seq > anchorSeq)
        {
            if (lastSeq < checkpoint.Seq)
            {
                return Broken(lastSeq + 1, $"the chain ends at seq {lastSeq}, but {checkpoint.Describe()} says {checkpoint.Seq}: the newest events were removed");
            }
            if (hashAtCheckpoint != checkpoint.Head)
            {
                return Broken(checkpoint.Seq, $"event {checkpoint.Seq} differs from {checkpoint.Describe()}: the chain was rewritten after it was checkpointed");
            }
        }
        var now = time.GetUtcNow();
        if (full)
        {
            _lastFullWalk = now;
        }
        _proved = reached;
        return _lastReport = new ChainReport(true, count, null, null, now, legacy, [.. keyIds], checkpoint,
            Note(count, legacy, keyIds, checkpoint, anchorSeq) + " " + Walked(full, read, from, _lastFullWalk), read, _lastFullWalk);
    }

    private static string Walked(bool full, long read, long from, DateTimeOffset? lastFull) => full
        ? $"Walked in full ({read} events read)."
        : $"Events through seq {from} were proved by earlier checks of this process{(lastFull is { } at ? $" (the last full walk at {at:yyyy-MM-dd HH:mm:ss} UTC)" : "")}; "
          + $"the {read} after them were read now. A change to an event already proved shows on the next full walk (?full=true).";

    private static async Task<string?> PrevHashAtAsync(DbConnection connection, DbTransaction snapshot, long seq, CancellationToken cancellationToken)
    {
        await using var command = AuditDatabase.Command(connection, snapshot, "SELECT prev_hash FROM audit_events WHERE seq = @s", ("s", seq));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task<string?> HashAtAsync(DbConnection connection, DbTransaction? snapshot, long seq, CancellationToken cancellationToken)
    {
        await using var command = AuditDatabase.Command(connection, snapshot, "SELECT hash FROM audit_events WHERE seq = @s", ("s", seq));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static string Note(long count, long legacy, SortedSet<string> keyIds, AuditCheckpoint? checkpoint, long anchorSeq)
    {
        var parts = new List<string>();
        if (count - legacy > 0)
        {
            parts.Add($"{count - legacy} keyed (HMAC-SHA256, key{(keyIds.Count > 1 ? "s" : "")} {string.Join(", ", keyIds)})");
        }
        if (legacy > 0)
        {
            parts.Add($"{legacy} legacy, unkeyed (written before the chain was keyed: plain SHA-256, which anyone who can write the database can recompute)");
        }
        var checkpointed = checkpoint is null
            ? "no checkpoint yet, so events cut from the end would not show"
            : checkpoint.Seq <= anchorSeq
                ? $"{checkpoint.Describe()} (seq {checkpoint.Seq}) is older than the last purge"
                : $"the chain reaches {checkpoint.Describe()} (seq {checkpoint.Seq})";
        return (parts.Count == 0 ? "No events" : "Events: " + string.Join("; ", parts)) + "; " + checkpointed + ".";
    }
}
