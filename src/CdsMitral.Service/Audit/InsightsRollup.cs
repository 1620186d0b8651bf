using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>
/// The governance figures kept per rule version and day (migration 010), folded from the chained hook and feedback
/// events once each: in the background and before each /audit/insights. The view then reads a row per rule and day of
/// its range, whatever the number of calls; reading every document of a year on each request cost seconds at 12,600
/// events and would cost minutes at a million. The chain stays the record; these tables are derived from it.
/// </summary>
public sealed class InsightsRollup(AuditDatabase db)
{
    /// <summary>Events read and folded per transaction: the write that follows is short, and the store's writer (SQLite
    /// has one) waits for it no longer than for a batch of calls.</summary>
    public const int Chunk = 2_000;

    /// <summary>The most committed events whose parts are held for the fold: past it the parts of new ones are not
    /// kept, and the fold reads their documents back (as after a restart). A few MB at most.</summary>
    public const int MaxRemembered = 4 * Chunk;

    /// <summary>What the fold counts of the events this process wrote and no fold has passed yet, by event id, with
    /// their seq: their documents then need not be read back and parsed again (a record's fold took 100–120 µs of CPU
    /// read back and takes 18–25 from memory; bench/CdsMitral.Bench stages). The store stays what is folded: an event is
    /// counted only when its row is read there, in the chain's order; this only saves reading it whole. Parts at or
    /// below the folded seq are dropped, whoever folded them (another instance sharing the store, too).</summary>
    private readonly ConcurrentDictionary<string, (InsightsHookView? Hook, InsightsFeedbackView? Feedback, long Seq)> _remembered = new(StringComparer.Ordinal);

    /// <summary>How many written events wait to be folded from memory.</summary>
    public int Remembered => _remembered.Count;

    /// <summary>How many documents the fold has read back and parsed since start-up: the events it did not find in memory.</summary>
    public long DocumentsReadBack => Interlocked.Read(ref _documentsReadBack);

    private long _documentsReadBack;

    /// <summary>Holds what the fold will count of <paramref name="entries"/>, just appended (<paramref name="appended"/>,
    /// one per entry: its seq, or a duplicate not written).</summary>
    public void Remember(IReadOnlyList<AuditEntry> entries, IReadOnlyList<AuditStore.Appended> appended)
    {
        for (var i = 0; i < entries.Count && _remembered.Count < MaxRemembered; i++)
        {
            if (appended[i].Written && InsightsViews.Of(entries[i]) is { } parts)
            {
                _remembered[entries[i].Id.ToString()] = (parts.Hook, parts.Feedback, appended[i].Seq);
            }
        }
    }

    /// <summary>Folds every hook and feedback event not folded yet. Several instances may fold at once: each chunk moves
    /// insight_state only from where it read it, and a chunk another instance folded first is dropped and read again.</summary>
    public Task FoldAsync(CancellationToken cancellationToken) =>
        // In one process one fold at a time: a request that finds the background fold running waits for it (at a year's
        // first fold, minutes) rather than folding the same chunks beside it, then folds what is left.
        _folds.RunAsync(() => FoldAllAsync(cancellationToken), cancellationToken);

    private readonly OneAtATime<int> _folds = new();

    private async Task<int> FoldAllAsync(CancellationToken cancellationToken)
    {
        var folded = 0;
        int chunk;
        do
        {
            folded += chunk = await FoldChunkAsync(cancellationToken);
        }
        while (chunk == Chunk);
        return folded;
    }

    private async Task<int> FoldChunkAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        long through;
        await using (var state = AuditDatabase.Command(connection, null, "SELECT through_seq FROM insight_state WHERE id = 1"))
        {
            through = Convert.ToInt64(await state.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        Forget(through);
        var rows = new List<(long Seq, string Id, string Kind, DateTimeOffset At)>(Chunk);
        await using (var read = AuditDatabase.Command(connection, null,
            "SELECT seq, id, kind, at FROM audit_events WHERE seq > @s AND kind IN ('hook', 'feedback') ORDER BY seq LIMIT @n",
            ("s", through), ("n", Chunk)))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), AuditStore.ReadTimestamp(reader.GetString(3))));
            }
        }
        if (rows.Count == 0)
        {
            return 0;
        }
        var last = rows[^1].Seq;
        var events = rows.Select(r => _remembered.TryGetValue(r.Id, out var parts) ? new InsightsEvent(r.Id, r.Kind, r.At, parts.Hook, parts.Feedback) : null)
            .ToList();
        var readBack = await ReadBackAsync(connection, rows.Where((_, i) => events[i] is null).ToList(), cancellationToken);
        Interlocked.Add(ref _documentsReadBack, readBack.Count);
        var fold = new InsightsReport.Fold();
        for (var i = 0; i < events.Count; i++)
        {
            if ((events[i] ?? readBack.GetValueOrDefault(rows[i].Seq)) is not { } e)
            {
                return 0; // gone between the two reads (folded and purged by another instance): the next fold reads on
            }
            fold.Add(e);
        }
        fold.Resolve(await EarlierCardsAsync(connection, fold.UnknownCards, cancellationToken));

        await using var transaction = await AuditDatabase.BeginWriteAsync(connection, cancellationToken);
        if (await AuditDatabase.Execute(connection, transaction, "UPDATE insight_state SET through_seq = @to WHERE id = 1 AND through_seq = @from",
                cancellationToken, ("to", last), ("from", through)) != 1)
        {
            await transaction.RollbackAsync(cancellationToken);
            return Chunk; // folded meanwhile by another instance: read on from where it left off
        }
        await ExecuteEach(connection, transaction,
            "INSERT INTO insight_days (rule_id, version, day, judged, fired, judged_silently, fired_silently, shown, suppressed, left_out) " +
            "VALUES (@r, @v, @d, @j, @f, @js, @fs, @sh, @su, @lo) ON CONFLICT (day, rule_id, version) DO UPDATE SET " +
            "judged = insight_days.judged + excluded.judged, fired = insight_days.fired + excluded.fired, " +
            "judged_silently = insight_days.judged_silently + excluded.judged_silently, fired_silently = insight_days.fired_silently + excluded.fired_silently, " +
            "shown = insight_days.shown + excluded.shown, suppressed = insight_days.suppressed + excluded.suppressed, left_out = insight_days.left_out + excluded.left_out",
            ["r", "v", "d", "j", "f", "js", "fs", "sh", "su", "lo"], fold.Days, d => [d.Key.Rule, d.Key.Version, d.Key.Day, (long)d.Value.Judged, (long)d.Value.Fired,
                (long)d.Value.JudgedSilently, (long)d.Value.FiredSilently, (long)d.Value.Shown, (long)d.Value.Suppressed, (long)d.Value.LeftOut], cancellationToken);
        await ExecuteEach(connection, transaction,
            "INSERT INTO insight_findings (rule_id, version, day, finding, n) VALUES (@r, @v, @d, @f, @n) " +
            "ON CONFLICT (day, rule_id, version, finding) DO UPDATE SET n = insight_findings.n + excluded.n",
            ["r", "v", "d", "f", "n"], fold.Findings, f => [f.Key.Key.Rule, f.Key.Key.Version, f.Key.Key.Day, f.Key.Finding, (long)f.Value], cancellationToken);
        await ExecuteEach(connection, transaction,
            "INSERT INTO insight_cards (card_uuid, rule_id, version, day, shown_at) VALUES (@u, @r, @v, @d, @a) ON CONFLICT (card_uuid) DO NOTHING",
            ["u", "r", "v", "d", "a"], fold.Cards.Values, c => [c.Uuid, c.Key.Rule, c.Key.Version, c.Key.Day, AuditStore.Timestamp(c.At)], cancellationToken);
        await ExecuteEach(connection, transaction,
            "INSERT INTO insight_answers (feedback_event_id, rule_id, version, day, outcome, reason, seconds) VALUES (@id, @r, @v, @d, @o, @why, @s) " +
            "ON CONFLICT (feedback_event_id) DO NOTHING",
            ["id", "r", "v", "d", "o", "why", "s"], fold.Answers, a => [a.FeedbackEventId, a.Key.Rule, a.Key.Version, a.Key.Day, a.Outcome, a.Reason, a.Seconds], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Forget(last);
        return rows.Count;
    }

    /// <summary>One statement for every row: made once and run with each row's values (made afresh per row, SQLite
    /// compiled it again each time, 20–30 µs a card).</summary>
    private static async Task ExecuteEach<T>(DbConnection connection, DbTransaction transaction, string sql, string[] names, IEnumerable<T> rows,
        Func<T, object?[]> values, CancellationToken cancellationToken)
    {
        await using var command = AuditDatabase.Command(connection, transaction, sql, [.. names.Select(n => (n, (object?)null))]);
        foreach (var row in rows)
        {
            var v = values(row);
            for (var i = 0; i < v.Length; i++)
            {
                command.Parameters[i].Value = v[i] ?? DBNull.Value;
            }
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Drops the remembered parts of events at or below <paramref name="folded"/>: folded, here or by another
    /// instance, and not read again.</summary>
    private void Forget(long folded)
    {
        foreach (var (id, parts) in _remembered)
        {
            if (parts.Seq <= folded)
            {
                _remembered.TryRemove(id, out _);
            }
        }
    }

    /// <summary>The events of <paramref name="rows"/> read from their documents: those this process did not commit, or
    /// committed before it started. Each is parsed as it is read, so that a chunk's documents (2,000 of 12 KB) are not
    /// all held at once.</summary>
    private static async Task<Dictionary<long, InsightsEvent>> ReadBackAsync(DbConnection connection, List<(long Seq, string Id, string Kind, DateTimeOffset At)> rows,
        CancellationToken cancellationToken)
    {
        var found = new Dictionary<long, InsightsEvent>(rows.Count);
        foreach (var part in rows.Chunk(500))
        {
            var bySeq = part.ToDictionary(r => r.Seq);
            await using var command = AuditDatabase.Command(connection, null,
                $"SELECT seq, document FROM audit_events WHERE seq IN ({string.Join(",", part.Select((_, i) => $"@s{i}"))})",
                [.. part.Select((r, i) => ($"s{i}", (object?)r.Seq))]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var r = bySeq[reader.GetInt64(0)];
                found[r.Seq] = InsightsViews.Parse(r.Id, r.Kind, r.At, reader.GetString(1));
            }
        }
        return found;
    }

    /// <summary>The cards of earlier chunks that these feedback items answer.</summary>
    private static async Task<Dictionary<string, CardShown>> EarlierCardsAsync(DbConnection connection, IReadOnlyCollection<string> uuids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, CardShown>(StringComparer.Ordinal);
        foreach (var part in uuids.Chunk(200))
        {
            var names = part.Select((_, i) => $"@u{i}").ToList();
            await using var command = AuditDatabase.Command(connection, null,
                $"SELECT card_uuid, rule_id, version, day, shown_at FROM insight_cards WHERE card_uuid IN ({string.Join(",", names)})",
                [.. part.Select((u, i) => ($"u{i}", (object?)u))]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found[reader.GetString(0)] = new CardShown(reader.GetString(0), new RuleDay(reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                    AuditStore.ReadTimestamp(reader.GetString(4)));
            }
        }
        return found;
    }

    /// <summary>The figures of the hook calls on the days from <paramref name="from"/> up to <paramref name="to"/> (not
    /// included), with every answer to their cards, per rule version and ISO week. Folds first what is not folded yet.</summary>
    public async Task<IReadOnlyList<InsightsRow>> ReadAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await FoldAsync(cancellationToken);
        var (first, end) = (InsightsReport.Day(from), InsightsReport.Day(to));
        await using var connection = await db.OpenAsync(cancellationToken);
        var days = new Dictionary<RuleDay, DayTally>();
        await using (var command = AuditDatabase.Command(connection, null,
            "SELECT rule_id, version, day, judged, fired, judged_silently, fired_silently, shown, suppressed, left_out FROM insight_days WHERE day >= @a AND day < @b",
            ("a", first), ("b", end)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                int I(int i) => Convert.ToInt32(reader.GetValue(i), CultureInfo.InvariantCulture);
                days[new RuleDay(reader.GetString(0), reader.GetString(1), reader.GetString(2))] = new DayTally
                {
                    Judged = I(3), Fired = I(4), JudgedSilently = I(5), FiredSilently = I(6), Shown = I(7), Suppressed = I(8), LeftOut = I(9),
                };
            }
        }
        var findings = new Dictionary<(RuleDay, string), int>();
        await using (var command = AuditDatabase.Command(connection, null,
            "SELECT rule_id, version, day, finding, n FROM insight_findings WHERE day >= @a AND day < @b", ("a", first), ("b", end)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                findings[(new RuleDay(reader.GetString(0), reader.GetString(1), reader.GetString(2)), reader.GetString(3))] =
                    Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture);
            }
        }
        var answers = new List<CardAnswer>();
        await using (var command = AuditDatabase.Command(connection, null,
            "SELECT feedback_event_id, rule_id, version, day, outcome, reason, seconds FROM insight_answers WHERE day >= @a AND day < @b", ("a", first), ("b", end)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                answers.Add(new CardAnswer(reader.GetString(0), new RuleDay(reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                    reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), Convert.ToDouble(reader.GetValue(6), CultureInfo.InvariantCulture)));
            }
        }
        return InsightsReport.Weeks(days, findings, answers);
    }
}
