using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
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

    /// <summary>PostgreSQL's channel for changes (migration 008); the payload is the schema changed, so stores sharing a
    /// database do not read each other's.</summary>
    private const string Channel = "cdsmitral_suppressions";

    /// <summary>How often the copy is read again whatever was announced.</summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);

    // The suppressions in force by client and patient, replaced whole (copy on write) under _gate. Null: not read yet,
    // the last read failed, or (PostgreSQL) not listening.
    private volatile Dictionary<(StandBackScope Scope, string Patient), Suppression[]>? _inForce;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>How hook calls check stand-backs now, in words for /health/ready.</summary>
    public string Mode => _inForce is null
        ? db.IsPostgres
            ? "stand-backs read from the store on every call (not listening for changes: starting, or reconnecting)"
            : "stand-backs read from the store when a call needs them (not held in memory: not read yet, or the last read failed)"
        : db.IsPostgres ? "stand-backs checked in memory, kept current by the store's announcements" : "stand-backs checked in memory";

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

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

    /// <summary>Reads the table into memory (<paramref name="again"/>: even if it was read). A failure installs nothing:
    /// a call's first read leaves the next call to try again, and <see cref="ExecuteAsync"/> drops the copy.</summary>
    private async Task<Dictionary<(StandBackScope Scope, string Patient), Suppression[]>> ReadTableAsync(bool again, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!again && _inForce is { } read)
            {
                return read;
            }
            var inForce = new Dictionary<(StandBackScope Scope, string Patient), Suppression[]>();
            await using var connection = await db.OpenAsync(cancellationToken);
            // Rows that have run out are left for AddAsync to delete; every check filters them anyway.
            await using var command = AuditDatabase.Command(connection, null, $"SELECT {Columns} FROM suppressions");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                Add(inForce, Read(reader));
            }
            return _inForce = inForce;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Keeps the copy current: SQLite reads the table again every <see cref="Refresh"/>; PostgreSQL listens for
    /// the changes any instance makes, and checks its connection and reads again every <see cref="Refresh"/>. When it
    /// cannot, the copy is dropped and calls read the table; it reconnects after 1 s, doubling up to 30 s.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wait = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (db.IsPostgres)
                {
                    await ListenAsync(() => wait = TimeSpan.FromSeconds(1), stoppingToken);
                }
                else
                {
                    await Task.Delay(Refresh, stoppingToken);
                    if (_inForce is not null)
                    {
                        await ReadTableAsync(again: true, stoppingToken);
                    }
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever went wrong, no copy that may be stale is used: calls read the table until it is read again.
                await DropAsync();
                SuppressionLog.NotListening(logger, e.GetType().Name, e.Message, wait.TotalSeconds);
            }
            try
            {
                await Task.Delay(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private async Task ListenAsync(Action listening, CancellationToken stoppingToken)
    {
        await using var connection = await db.OpenListenerAsync(stoppingToken);
        string? schema;
        await using (var query = AuditDatabase.Command(connection, null, "SELECT current_schema()"))
        {
            schema = (string?)await query.ExecuteScalarAsync(stoppingToken);
        }
        var announced = 0;
        connection.Notification += (_, e) =>
        {
            if (e.Channel == Channel && e.Payload == schema)
            {
                Volatile.Write(ref announced, 1);
            }
        };
        await AuditDatabase.Execute(connection, null, $"LISTEN {Channel}", stoppingToken);
        // Read after listening: a change committed before is in what is read, one after is announced.
        await ReadTableAsync(again: true, stoppingToken);
        SuppressionLog.Listening(logger);
        listening();
        while (true)
        {
            if (!await connection.WaitAsync(Refresh, stoppingToken))
            {
                // Nothing for a while: a connection dropped without a reset would wait here for ever. Ask it something.
                await AuditDatabase.Execute(connection, null, "SELECT 1", stoppingToken);
                Volatile.Write(ref announced, 1);
            }
            if (Interlocked.Exchange(ref announced, 0) == 1)
            {
                await ReadTableAsync(again: true, stoppingToken);
            }
        }
    }

    private async Task DropAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _inForce = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A copy of <paramref name="current"/> without what ran out before <paramref name="s"/> was given, and with it.</summary>
    private static Dictionary<(StandBackScope Scope, string Patient), Suppression[]> Added(Dictionary<(StandBackScope Scope, string Patient), Suppression[]> current, Suppression s)
    {
        var copy = new Dictionary<(StandBackScope Scope, string Patient), Suppression[]>(current.Count + 1);
        foreach (var (key, held) in current)
        {
            if (held.Where(h => h.Until > s.At).ToArray() is { Length: > 0 } still)
            {
                copy[key] = still;
            }
        }
        Add(copy, s);
        return copy;
    }

    private static void Add(Dictionary<(StandBackScope Scope, string Patient), Suppression[]> inForce, Suppression s)
    {
        var key = (s.Scope, s.PatientId);
        var held = inForce.GetValueOrDefault(key, []);
        // A second delivery of the same feedback, or more feedback on the same card, adds nothing, as the table's keys.
        if (!held.Any(h => h.DedupeKey == s.DedupeKey || h.CardUuid == s.CardUuid))
        {
            inForce[key] = [.. held, s];
        }
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

internal static partial class SuppressionLog
{
    [LoggerMessage(53, LogLevel.Information, "Stand-backs held in memory, kept current by the store's announcements")]
    public static partial void Listening(ILogger logger);

    [LoggerMessage(54, LogLevel.Warning, "Stand-backs not kept in memory ({Type:l}: {Message:l}); calls read them from the store until they are read again, tried in {Seconds} s")]
    public static partial void NotListening(ILogger logger, string type, string message, double seconds);
}
