using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>Retention: the chain's oldest events are archived, checked, and only then removed, with a purge event that
/// names the archive; and the archives are checked again on demand.</summary>
public sealed partial class AuditStore
{
    /// <summary>Events one purge archives and removes at most. A backlog (retention switched on over a year of events) goes
    /// in several purges, each with its own archive and purge event, so that none holds the chain lock for long.</summary>
    public const int PurgeSlice = 1_000;

    /// <summary>How old an archive of events still in the chain must be before a purge takes it for one whose purge never
    /// committed, and removes it: another instance sharing the folder may be about to commit its own.</summary>
    private static readonly TimeSpan UncommittedArchiveAge = TimeSpan.FromMinutes(10);

    public AuditArchives? Archives => archives;

    /// <summary>Set by the insights fold: a purge folds what it is about to remove first, so that the governance
    /// figures of purged days stay.</summary>
    public Func<CancellationToken, Task>? FoldCatchUp { get; set; }

    /// <summary>Archives and removes the oldest events (a prefix of the chain, so what stays still verifies from a
    /// recorded anchor): those older than <paramref name="olderThan"/>, at most <paramref name="maxEvents"/>, none the
    /// insights have not folded. The archive is written and flushed to disk before the events go; each event is
    /// checked on its way into it, and a prefix that does not verify is neither archived nor removed
    /// (<see cref="RetentionRefusedException"/>). Null when nothing is old enough.</summary>
    public async Task<PurgeRecord?> PurgeAsync(DateTimeOffset olderThan, TimeProvider time, CancellationToken cancellationToken, int maxEvents = PurgeSlice)
    {
        if (archives is null)
        {
            throw new InvalidOperationException("This store has no archive folder, and retention removes nothing it has not archived.");
        }
        await IndexCurrent(cancellationToken);
        if (FoldCatchUp is { } fold)
        {
            await fold(cancellationToken);
        }
        await using var connection = await db.OpenAsync(cancellationToken);
        var (anchor, anchorSeq) = await AnchorAsync(connection, null, cancellationToken);
        archives.RemoveUncommitted(anchorSeq, UncommittedArchiveAge);
        var lastRemoved = await LastToRemoveAsync(connection, anchorSeq, olderThan, maxEvents, cancellationToken);
        if (lastRemoved <= anchorSeq)
        {
            return null; // nothing old enough
        }
        // 1. The archive, outside the chain lock: the events it takes are older than the cut and never change (a change
        //    would fail the check below and stop the purge).
        using var archive = archives.Begin(anchorSeq + 1, lastRemoved);
        var expected = anchor;
        await using (var read = AuditDatabase.Command(connection, null,
            $"SELECT {EventColumns} FROM audit_events e WHERE e.seq > @a AND e.seq <= @l ORDER BY e.seq", ("a", anchorSeq), ("l", lastRemoved)))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            var expectedSeq = anchorSeq + 1;
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = ReadEvent(reader);
                if (LinkProblem(e, expectedSeq, expected, Sealed) is { } problem)
                {
                    throw new RetentionRefusedException(problem);
                }
                archive.Add(e);
                expected = e.Hash;
                expectedSeq++;
            }
            if (expectedSeq != lastRemoved + 1)
            {
                throw new RetentionRefusedException($"expected events through {lastRemoved}, the chain gave them through {expectedSeq - 1}");
            }
        }
        var now = time.GetUtcNow();
        var sha256 = archive.Seal(ArchiveSeal.Sign(keys.Current, archives.Store, anchorSeq + 1, lastRemoved, anchor, expected, archive.EventsSha256, now, olderThan));

        // 2. The removal, under the chain lock, only if the chain still starts where the archive does and its last event
        //    is still the one archived (another instance may have purged meanwhile).
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        await using (var head = AuditDatabase.Command(connection, transaction, db.LockHeadSql))
        {
            await head.ExecuteScalarAsync(cancellationToken); // take the chain lock first
        }
        if (await AnchorAsync(connection, transaction, cancellationToken) != (anchor, anchorSeq)
            || await HashAtAsync(connection, transaction, lastRemoved, cancellationToken) != expected)
        {
            archive.Abandon();
            return null;
        }
        foreach (var table in new[] { "feedback", "cards", "invocations" })
        {
            await AuditDatabase.Execute(connection, transaction,
                $"DELETE FROM {table} WHERE event_id IN (SELECT id FROM audit_events WHERE seq > @a AND seq <= @last)", cancellationToken,
                ("a", anchorSeq), ("last", lastRemoved));
        }
        var removed = await AuditDatabase.Execute(connection, transaction, "DELETE FROM audit_events WHERE seq > @a AND seq <= @last", cancellationToken,
            ("a", anchorSeq), ("last", lastRemoved));
        await AuditDatabase.Execute(connection, transaction, "UPDATE chain_head SET anchor = @h, anchor_seq = @s WHERE id = 1", cancellationToken,
            ("h", expected), ("s", lastRemoved));
        var record = new PurgeRecord(now, olderThan, removed, lastRemoved + 1, expected, archive.Name, sha256);
        var (_, newHead) = await AppendInTransaction(connection, transaction,
            [new AuditEntry(Guid.CreateVersion7(), EventKind.Purge, record.At, JsonSerializer.Serialize(record, AuditJson.Default.PurgeRecord))], replay: false, cancellationToken);
        try
        {
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            archive.Abandon();
            throw;
        }
        Committed(newHead);
        return record;
    }

    /// <summary>Why an event read in order does not continue the chain (out of sequence, not linked to the one before,
    /// or its own hash not vouching for it), in the words the purge and the archive check report; null when it does.</summary>
    private string? Sealed(StoredEvent e) => SealProblem(e).Problem;

    internal static string? LinkProblem(StoredEvent e, long expectedSeq, string expectedPrev, Func<StoredEvent, string?> sealProblem) =>
        e.Seq != expectedSeq ? $"expected event {expectedSeq}, found {e.Seq}: events are missing or were inserted"
        : e.PrevHash != expectedPrev ? $"event {e.Seq}'s previous-hash does not match the event before it"
        : sealProblem(e) is { } seal ? $"event {e.Seq}: {seal}"
        : null;

    private static async Task<(string Anchor, long AnchorSeq)> AnchorAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = AuditDatabase.Command(connection, transaction, "SELECT anchor, anchor_seq FROM chain_head WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetString(0), reader.GetInt64(1));
    }

    /// <summary>The last event a purge may take: the chain's oldest, up to (not including) the first as young as the
    /// cut, at most <paramref name="maxEvents"/>, and none past what the insights folded.</summary>
    private async Task<long> LastToRemoveAsync(DbConnection connection, long anchorSeq, DateTimeOffset olderThan, int maxEvents, CancellationToken cancellationToken)
    {
        var foldedThrough = long.MaxValue;
        if (FoldCatchUp is not null)
        {
            await using var state = AuditDatabase.Command(connection, null, "SELECT through_seq FROM insight_state WHERE id = 1");
            foldedThrough = Convert.ToInt64(await state.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        var cut = Timestamp(olderThan);
        var last = anchorSeq;
        await using var command = AuditDatabase.Command(connection, null,
            "SELECT seq, at, kind FROM audit_events WHERE seq > @a ORDER BY seq LIMIT @n", ("a", anchorSeq), ("n", maxEvents));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (seq, at, kind) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2));
            // The fold reads hook and feedback events only, so its mark may stand before a purge event it passed over.
            if (string.CompareOrdinal(at, cut) >= 0 || (seq > foldedThrough && kind is EventKind.Hook or EventKind.Feedback))
            {
                break;
            }
            last = seq;
        }
        return last;
    }

    /// <summary>Checks every archive of this store in the folder (each event's HMAC, the links, the seal, the file's
    /// SHA-256), and each against what the purge that wrote it recorded: in a later archive, or in the chain that remains.
    /// An archive moved elsewhere is not a break; one that differs from its purge record, or does not verify, is.</summary>
    public async Task<ArchivesReport> VerifyArchivesAsync(CancellationToken cancellationToken)
    {
        if (archives is null)
        {
            return new ArchivesReport("", true, [], "This store keeps no archives.");
        }
        var found = new List<ArchiveReport>();
        var named = new Dictionary<string, (string? Sha256, string By)>(StringComparer.Ordinal);
        foreach (var file in archives.Files())
        {
            var (report, purges) = archives.Check(file, keys, Sealed);
            found.Add(report);
            foreach (var p in purges.Where(p => p.Archive is not null))
            {
                named[p.Archive!] = (p.ArchiveSha256, $"a purge of {p.At:yyyy-MM-dd HH:mm} UTC, kept in {report.File}");
            }
        }
        await using var connection = await db.OpenAsync(cancellationToken);
        var (anchor, anchorSeq) = await AnchorAsync(connection, null, cancellationToken);
        await using (var command = AuditDatabase.Command(connection, null, "SELECT seq, document FROM audit_events WHERE kind = 'purge' AND seq > @a ORDER BY seq", ("a", anchorSeq)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (ReadPurge(reader.GetString(1)) is { Archive: { } name } p)
                {
                    named[name] = (p.ArchiveSha256, $"the purge event at seq {reader.GetInt64(0)}, in the chain");
                }
            }
        }
        var reports = new List<ArchiveReport>();
        ArchiveReport? before = null;
        foreach (var report in found)
        {
            var r = report;
            if (report.Intact) // its seal held: its range and hashes are the seal's
            {
                if (named.TryGetValue(r.File, out var by))
                {
                    r = by.Sha256 == r.Sha256
                        ? r with { NamedBy = by.By }
                        : r with { Intact = false, Problem = $"its SHA-256 is not the one {by.By} recorded: the file was altered or replaced", NamedBy = by.By };
                }
                else
                {
                    r = r with
                    {
                        Note = r.FirstSeq > anchorSeq
                            ? "no purge names it and its events are still in the chain: its purge did not commit (the next purge removes it)"
                            : "the purge that wrote it is recorded in an archive not in this folder",
                    };
                }
                if (r.Intact && r.LastSeq == anchorSeq && r.EndsAt != anchor)
                {
                    r = r with { Intact = false, Problem = "it ends where the chain starts, but with another hash than the chain's anchor" };
                }
                if (before is { Intact: true, LastSeq: { } previousLast } && r.FirstSeq == previousLast + 1 && r.StartsAfter != before.EndsAt)
                {
                    r = r with { Intact = false, Problem = $"it follows {before.File} by number but not by hash" };
                }
                else if (before is { LastSeq: { } gapFrom } && r.FirstSeq > gapFrom + 1)
                {
                    r = r with { Note = string.Join(" ", new[] { r.Note, $"events {gapFrom + 1}–{r.FirstSeq - 1} before it are in no archive in this folder" }.Where(n => n is not null)) };
                }
            }
            reports.Add(r);
            before = r;
        }
        var missing = named.Keys.Where(n => reports.All(r => r.File != n)).Order(StringComparer.Ordinal).ToList();
        var intact = reports.All(r => r.Intact);
        var summary = $"{reports.Count} archive{(reports.Count == 1 ? "" : "s")} of this store in {archives.Folder}; "
            + (intact ? "each verifies" : $"{reports.Count(r => !r.Intact)} do not verify")
            + (missing.Count == 0 ? "." : $"; named by purges but not in the folder: {string.Join(", ", missing)}.");
        return new ArchivesReport(archives.Folder, intact, reports, summary);
    }
}

/// <summary>A purge found that the events it would archive do not verify: it archives and removes nothing, and the
/// chain keeps the evidence.</summary>
public sealed class RetentionRefusedException(string problem) : Exception($"Retention archives and removes nothing: {problem}.");
