using System.Data.Common;
using System.Text.Json;
using CdsMitral.Fhir;

namespace CdsMitral.Service.Audit;

/// <summary>The suppressions table (migration 004): written after a feedback event is durable, read by every hook call
/// that has cards, in whichever instance it runs.</summary>
/// <remarks>The suppressions in force are kept in memory, and a hook's check costs no query (the query, with its
/// connection, was a third of an audited call's CPU at eight connections on SQLite, and half on PostgreSQL).
/// <list type="bullet">
/// <item>SQLite: one process owns the file (several instances use PostgreSQL), so every suppression was written through
/// here: the table is read once, and the copy is added to as rows are written.</item>
/// <item>PostgreSQL: other instances write too. A trigger announces every change (NOTIFY, migration 008) when it
/// commits, and every instance listens and reads the table again, so a stand-back given through one instance holds in
/// the others a moment later. While an instance is not listening (starting, or its listening connection lost) its calls
/// read the table, as before.</item>
/// <item>Both read the whole table again every <see cref="Refresh"/>, so that a change nothing announced (a row deleted
/// by hand in SQLite, an announcement lost) is seen within that time; a read that fails drops the copy, and calls read
/// the table themselves (every card is shown while it cannot be read).</item>
/// </list></remarks>
public sealed partial class SuppressionStore(AuditDatabase db, ILogger<SuppressionStore> logger) : BackgroundService
{
    private const string Columns = "dedupe_key, feedback_event_id, invocation_event_id, card_uuid, client_issuer, patient_id, rule_id, rule_version, "
        + "fingerprint, outcome, reason_system, reason_code, reason_display, user_id, at, until_at, client_tenant, fhir_server";

    public async Task AddAsync(Suppression s, CancellationToken cancellationToken)
    {
        await using (var connection = await db.OpenAsync(cancellationToken))
        {
            // What has run out stands nothing back any more: the table holds only suppressions in force (and no patient ids beyond them).
            await AuditDatabase.Execute(connection, null, "DELETE FROM suppressions WHERE until_at <= @now", cancellationToken, ("now", AuditStore.Timestamp(s.At)));
            await AuditDatabase.Execute(connection, null,
                // A second delivery of the item, or any later feedback on a card that already stands back, adds nothing
                // (both keys are unique): a stand-back is never extended without the card being shown again.
                $"INSERT INTO suppressions ({Columns}) VALUES (@k, @f, @i, @c, @iss, @p, @r, @v, @fp, @o, @rs, @rc, @rd, @u, @at, @until, @t, @fs) ON CONFLICT DO NOTHING",
                cancellationToken,
                ("k", s.DedupeKey), ("f", s.FeedbackEventId), ("i", s.InvocationEventId), ("c", s.CardUuid), ("iss", s.Scope.Issuer), ("p", s.PatientId),
                ("r", s.RuleId), ("v", s.RuleVersion), ("fp", s.Fingerprint), ("o", s.Outcome), ("rs", s.Reason?.System), ("rc", s.Reason?.Code),
                ("rd", s.Reason?.Display), ("u", s.UserId), ("at", AuditStore.Timestamp(s.At)), ("until", AuditStore.Timestamp(s.Until)),
                ("t", s.Scope.Tenant), ("fs", s.Scope.FhirServer));
        }
        // After the row is committed, under the gate a read of the table holds: a read that began before the commit and
        // missed the row finishes first, and the row is added here; one that saw it is not added to twice. Not cancelled
        // with the request: the row is in the table, and the copy must have it too.
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (_inForce is { } current)
            {
                _inForce = Added(current, s);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The suppressions in force at <paramref name="now"/> for these rules of this patient, newest first.</summary>
    public async Task<IReadOnlyList<Suppression>> InForceAsync(StandBackScope scope, string patientId, IReadOnlyCollection<string> ruleIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ruleIds.Count == 0)
        {
            return [];
        }
        if ((_inForce ?? (db.IsPostgres ? null : await ReadTableAsync(again: false, cancellationToken))) is { } inForce)
        {
            return inForce.Count == 0 || !inForce.TryGetValue((scope, patientId), out var held)
                ? []
                : [.. held.Where(h => h.Until > now && ruleIds.Contains(h.RuleId)).OrderByDescending(h => h.At)];
        }
        var rules = ruleIds.Select((r, n) => ($"r{n}", (object?)r)).ToArray();
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT {Columns} FROM suppressions WHERE patient_id = @p AND client_issuer = @iss AND client_tenant = @t AND fhir_server = @fs AND until_at > @now " +
            $"AND rule_id IN ({string.Join(",", rules.Select(r => "@" + r.Item1))}) ORDER BY at DESC",
            [("p", patientId), ("iss", scope.Issuer), ("t", scope.Tenant), ("fs", scope.FhirServer), ("now", AuditStore.Timestamp(now)), .. rules]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new List<Suppression>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(Read(reader));
        }
        return found;
    }

    private static Suppression Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTimeOffset Time(int i) => AuditStore.ReadTimestamp(r.GetString(i));
        var reason = Text(11) is { } code ? new Coding(Text(10) ?? "", code, Text(12)) : null;
        return new Suppression(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), new StandBackScope(r.GetString(4), r.GetString(16), r.GetString(17)),
            r.GetString(5), r.GetString(6), r.GetString(7), r.GetString(8), r.GetString(9), reason, Text(13), Time(14), Time(15));
    }

    public static SuppressionInvocationView? ReadInvocation(string document)
    {
        try
        {
            return JsonSerializer.Deserialize(document, SuppressionJson.Default.SuppressionInvocationView);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
