using System.Data.Common;
using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>The auditors' pages: a filtered list, an export, one call with its feedback, unmatched feedback; each row
/// read from its chained document and checked.</summary>
public sealed partial class AuditStore
{
    // ---- queries for auditors ----------------------------------------------------------------------------------
    // The index tables find the events a filter asks for; what is shown of each is read from its chained document,
    // whose hash is checked as it is read, and a row whose index differs from its document says so (Problem).

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
        // A card's uuid (as an EHR's log or a clinician's complaint gives it) finds the call that showed it.
        if (!string.IsNullOrWhiteSpace(f.Card)) Add("i.event_id IN (SELECT c.event_id FROM cards c WHERE c.card_uuid = @card)", "card", f.Card);
        return (clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses), parameters);
    }

    private const string EventColumns = "e.seq, e.id, e.kind, e.at, e.document, e.prev_hash, e.hash, e.key_id";

    private const string IndexColumns = "i.event_id, i.at, i.service_id, i.hook, i.hook_instance, i.patient_id, i.user_id, i.client_issuer, i.status, i.rule_ids, i.indicators";

    /// <summary>The most matches a list counts; more is reported as CountLimit + 1 ("more than …").</summary>
    public const int CountLimit = 10_000;

    public async Task<(IReadOnlyList<InvocationRow> Rows, long Total)> ListAsync(AuditFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        var (where, parameters) = Where(filter);
        await IndexCurrent(cancellationToken);
        await using var connection = await db.OpenAsync(cancellationToken);
        long total;
        // Counted up to CountLimit + 1 only: a count of every match of a year's calls (a rule fires in many of them) is a
        // scan that grows with the store, for a figure nobody pages through.
        await using (var count = AuditDatabase.Command(connection, null, $"SELECT count(*) FROM (SELECT 1 FROM invocations i {where} LIMIT {CountLimit + 1}) m", [.. parameters]))
        {
            total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        parameters.Add(("lim", pageSize));
        parameters.Add(("off", Math.Max(0, page - 1) * pageSize));
        var found = new List<(StoredEvent Event, IndexedInvocation? Index)>();
        await using (var command = AuditDatabase.Command(connection, null,
            $"SELECT {EventColumns}, {IndexColumns} FROM invocations i JOIN audit_events e ON e.id = i.event_id {where} ORDER BY i.at DESC, i.event_id LIMIT @lim OFFSET @off", [.. parameters]))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                found.Add((ReadEvent(reader), ReadIndex(reader, 8)));
            }
        }
        return (await Verified(connection, found, cancellationToken), total);
    }

    /// <summary>Every document matching the filter, oldest first, read in a stream (an export can be large).</summary>
    public async IAsyncEnumerable<(InvocationRow Row, string Document)> ExportAsync(AuditFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (where, parameters) = Where(filter);
        await IndexCurrent(cancellationToken);
        await using var connection = await db.OpenAsync(cancellationToken);
        // A second connection looks up each chunk's feedback while the first streams (PostgreSQL runs one command at a time per connection).
        await using var lookups = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT {EventColumns}, {IndexColumns} FROM invocations i JOIN audit_events e ON e.id = i.event_id {where} ORDER BY i.at, i.event_id", [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var chunk = new List<(StoredEvent Event, IndexedInvocation? Index)>();
        var more = true;
        while (more)
        {
            more = await reader.ReadAsync(cancellationToken);
            if (more)
            {
                chunk.Add((ReadEvent(reader), ReadIndex(reader, 8)));
            }
            if (chunk.Count == 200 || !more && chunk.Count > 0)
            {
                var rows = await Verified(lookups, chunk, cancellationToken);
                for (var r = 0; r < rows.Count; r++)
                {
                    yield return (rows[r], chunk[r].Event.Document);
                }
                chunk.Clear();
            }
        }
    }

    /// <summary>Rows as their chained documents say, each event's hash checked, with its feedback outcomes read from the
    /// feedback's own documents. Where the index differs, the row carries the document's values and says what differs.</summary>
    private async Task<List<InvocationRow>> Verified(DbConnection connection, List<(StoredEvent Event, IndexedInvocation? Index)> found, CancellationToken cancellationToken)
    {
        var outcomes = found.ToDictionary(f => f.Event.Id, _ => (Outcomes: new List<string>(), Problem: (string?)null), StringComparer.Ordinal);
        if (found.Count > 0)
        {
            var ids = found.Select((f, n) => ($"i{n}", (object?)f.Event.Id)).ToArray();
            await using var command = AuditDatabase.Command(connection, null,
                $"SELECT {EventColumns}, f.invocation_event_id, f.outcome FROM feedback f JOIN audit_events e ON e.id = f.event_id " +
                $"WHERE f.invocation_event_id IN ({string.Join(",", ids.Select(i => "@" + i.Item1))}) ORDER BY e.seq", ids);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var e = ReadEvent(reader);
                var (invocation, outcome) = (reader.GetString(8), reader.GetString(9));
                var entry = outcomes[invocation];
                var view = SealProblem(e).Problem is null ? ReadFeedback(e.Document) : null;
                if (view is null || view.InvocationId != invocation || view.Outcome != outcome)
                {
                    entry.Problem ??= $"the index row of its feedback event {e.Seq} differs from that event's record";
                }
                if (view is not null && view.InvocationId == invocation && view.Outcome is { } said)
                {
                    entry.Outcomes.Add(said);
                }
                outcomes[invocation] = entry;
            }
        }
        if (found.Count > 0 && outcomes.Values.Any(o => o.Problem is not null))
        {
            _proved = null; // the next chain report walks in full: it must not say "intact" over a row that is not
        }
        var rows = new List<InvocationRow>(found.Count);
        foreach (var (e, index) in found)
        {
            var (seal, _) = SealProblem(e);
            var view = ReadInvocation(e.Document);
            var expected = view is null ? null : Expected(e.AtText, view);
            var problem = seal is not null ? $"event {e.Seq}: {seal}"
                : expected is null ? $"event {e.Seq}: its record cannot be read"
                : Differences(expected, index) is { } differs ? $"event {e.Seq}: its index row differs from its chained record ({differs})"
                : outcomes[e.Id].Problem;
            if (problem is not null)
            {
                _proved = null;
            }
            rows.Add(new InvocationRow(e.Id, e.At, view?.ServiceId ?? "", view?.Hook, view?.HookInstance, view?.PatientId, view?.UserId, view?.Client?.Issuer,
                view?.Status ?? 0, Split(expected?.RuleIds), Split(expected?.Indicators), outcomes[e.Id].Outcomes, problem));
        }
        return rows;
    }

    private static string[] Split(string? s) => (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>An invocation's own event and the feedback events tied to it.</summary>
    public async Task<(StoredEvent Invocation, IReadOnlyList<StoredEvent> Feedback)?> GetAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var invocation = await Events(connection, $"SELECT {EventColumns} FROM audit_events e WHERE e.id = @id AND e.kind = 'hook'", cancellationToken, ("id", eventId)).FirstOrDefaultAsync(cancellationToken);
        if (invocation is null)
        {
            return null;
        }
        var feedback = await Events(connection, $"SELECT {EventColumns} FROM audit_events e JOIN feedback f ON f.event_id = e.id WHERE f.invocation_event_id = @id ORDER BY e.seq", cancellationToken, ("id", eventId)).ToListAsync(cancellationToken);
        StoredEvent Checked(StoredEvent e) => SealProblem(e).Problem is { } problem ? e with { Problem = problem } : e;
        return (Checked(invocation), feedback.Select(Checked).Where(f => ReadFeedback(f.Document)?.InvocationId == eventId).ToList());
    }

    /// <summary>Feedback about cards that are not on record: stored and flagged, for an auditor to look at.</summary>
    public async Task<IReadOnlyList<StoredEvent>> UnmatchedFeedbackAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await Events(connection, $"SELECT {EventColumns} FROM audit_events e JOIN feedback f ON f.event_id = e.id WHERE f.known_card = 0 ORDER BY e.seq DESC LIMIT @lim", cancellationToken, ("lim", limit)).ToListAsync(cancellationToken);
    }

    private static async IAsyncEnumerable<StoredEvent> Events(DbConnection connection, string sql, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = AuditDatabase.Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadEvent(reader);
        }
    }

    private static StoredEvent ReadEvent(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), ReadTimestamp(r.GetString(3)),
            r.GetString(4), r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7)) { AtText = r.GetString(3) };
}
