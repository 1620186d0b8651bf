using System.Data.Common;
using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>The invocation and card index rows: derived from each appended record, and on SQLite written after the
/// answer (PendingIndex), or rebuilt from the chained documents at start-up.</summary>
public sealed partial class AuditStore
{
    private static readonly string[] InvocationColumns = ["event_id", "at", "service_id", "hook", "hook_instance", "patient_id", "user_id", "client_issuer", "status", "rule_ids", "indicators"];

    private static readonly string[] CardColumns = ["card_uuid", "event_id", "rule_id", "indicator"];

    // ---- the index written after the answer (SQLite) -------------------------------------------------------------
    // A hook call waits for its event row and the chain head only (about six pages); its invocation and card rows (about
    // ten more pages of five indexes) are written after, many calls' at once, and rebuilt from the chained documents at
    // start-up when a crash came between the two. Readers that use those rows first wait for them (IndexCatchUp).

    /// <summary>Invocation and card rows of committed hook events, not yet in their tables.</summary>
    public sealed class PendingIndex
    {
        internal List<object?[]> Invocations { get; } = [];
        internal List<object?[]> Cards { get; } = [];

        /// <summary>The newest committed event these rows cover.</summary>
        public long ThroughSeq { get; private set; }

        public int Count => Invocations.Count;

        internal void Take(PendingIndex other, long throughSeq)
        {
            Invocations.AddRange(other.Invocations);
            Cards.AddRange(other.Cards);
            ThroughSeq = Math.Max(ThroughSeq, throughSeq);
        }

        internal void Clear()
        {
            Invocations.Clear();
            Cards.Clear();
        }
    }

    /// <summary>Set by the SQLite writer: completes once the index rows of every call answered so far are written.</summary>
    public Func<CancellationToken, Task>? IndexCatchUp { get; set; }

    /// <summary>The newest event whose index rows this process has written after its answer (0 for none).</summary>
    public long IndexedThrough { get; private set; }

    private Task IndexCurrent(CancellationToken cancellationToken) => IndexCatchUp?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Writes pending index rows and moves index_head past them, in one transaction that does not wait for the
    /// disk: the rows are derived from events already durable, and the next durable commit's sync carries them anyway.</summary>
    public async Task WriteIndexAsync(DbConnection connection, PendingIndex pending, CancellationToken cancellationToken)
    {
        if (pending.ThroughSeq == 0)
        {
            return;
        }
        await Prepared(connection, null, "PRAGMA synchronous=NORMAL", 0).ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
            // Only for events still there: one deleted meanwhile (tampering) shows as a gap in the chain, and must not
            // fail its foreign key and hold back the index of every call after it.
            await InsertRows(connection, transaction, "invocations", InvocationColumns, pending.Invocations, cancellationToken, eventColumn: 0);
            await InsertRows(connection, transaction, "cards", CardColumns, pending.Cards, cancellationToken, eventColumn: 1);
            var head = Prepared(connection, transaction, "UPDATE index_head SET seq = @p0 WHERE id = 1 AND seq < @p0", 1);
            head.Parameters[0].Value = pending.ThroughSeq;
            await head.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            IndexedThrough = Math.Max(IndexedThrough, pending.ThroughSeq);
            pending.Clear();
        }
        finally
        {
            await Prepared(connection, null, "PRAGMA synchronous=FULL", 0).ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>At start-up (SQLite): the index rows of hook events past index_head — committed, answered, and then the
    /// process died before their rows were written — rebuilt from their chained documents. Returns how many.</summary>
    public async Task<int> RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        long from;
        await using (var read = AuditDatabase.Command(connection, transaction, "SELECT seq FROM index_head WHERE id = 1"))
        {
            from = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        var rebuilt = new PendingIndex();
        await using (var events = AuditDatabase.Command(connection, transaction,
            "SELECT e.seq, e.id, e.at, e.document, i.event_id FROM audit_events e LEFT JOIN invocations i ON i.event_id = e.id " +
            "WHERE e.seq > @from AND e.kind = 'hook' ORDER BY e.seq", ("from", from)))
        await using (var reader = await events.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                // Rows already there were written inline (a spool replay) and stay as they are.
                if (!reader.IsDBNull(4) || ReadInvocation(reader.GetString(3)) is not { } view)
                {
                    continue;
                }
                var (id, at) = (reader.GetString(1), reader.GetString(2));
                var expected = Expected(at, view);
                rebuilt.Invocations.Add(expected.Row(id));
                rebuilt.Cards.AddRange((view.Cards ?? []).Select(c => new object?[] { c.Uuid, id, c.Source?.Topic?.Code ?? "", c.Indicator ?? "" }));
            }
        }
        await InsertRows(connection, transaction, "invocations", InvocationColumns, rebuilt.Invocations, cancellationToken);
        await InsertRows(connection, transaction, "cards", CardColumns, rebuilt.Cards, cancellationToken);
        await using (var head = AuditDatabase.Command(connection, transaction,
            "UPDATE index_head SET seq = (SELECT seq FROM chain_head WHERE id = 1) WHERE id = 1"))
        {
            await head.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return rebuilt.Count;
    }

    private static string Set(IEnumerable<string> values) => "," + string.Join(",", values.Distinct()) + ",";

    /// <summary>The index rows of an event, from its record. <see cref="Expected(string, InvocationIndexView)"/> derives
    /// the same from the stored document, and verification compares the two.</summary>
    private static void IndexRows(string id, string at, AuditEntry entry, List<object?[]> invocations, List<object?[]> cards, List<object?[]> feedback)
    {
        if (entry.Invocation is { } i)
        {
            var shown = i.Cards ?? [];
            invocations.Add([id, at, i.ServiceId, i.Hook, i.HookInstance, i.PatientId, i.UserId, i.Client.Issuer, i.Status,
                Set(shown.Select(c => c.Source.Topic?.Code ?? "")), Set(shown.Select(c => c.Indicator))]);
            cards.AddRange(shown.Select(card => new object?[] { card.Uuid, id, card.Source.Topic?.Code ?? "", card.Indicator }));
        }
        if (entry.Feedback is { } f)
        {
            feedback.Add([id, f.DedupeKey, f.Card, f.InvocationId, f.Outcome, at, f.KnownCard ? 1 : 0]);
        }
    }
}
