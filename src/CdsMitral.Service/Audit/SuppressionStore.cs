using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CdsMitral.Fhir;

namespace CdsMitral.Service.Audit;

/// <summary>A card standing back: this rule, for this patient (of this client), while its inputs keep this fingerprint,
/// until <paramref name="Until"/>, because of this feedback.</summary>
public sealed record Suppression(
    string DedupeKey,
    string FeedbackEventId,
    string InvocationEventId,
    string CardUuid,
    string ClientIssuer,
    string PatientId,
    string RuleId,
    string RuleVersion,
    string Fingerprint,
    string Outcome,
    Coding? Reason,
    string? UserId,
    DateTimeOffset At,
    DateTimeOffset Until)
{
    /// <summary>"not shown: overridden on 2026-11-21 by Practitioner/1 for Already evaluated by the Heart Valve Team (already-evaluated-hvt); stands back until 2027-05-20"</summary>
    public string Words =>
        $"not shown: {Outcome} on {At.UtcDateTime:yyyy-MM-dd} by {UserId ?? "an unnamed user"}"
        + (Outcome == "accepted" ? " (a suggestion was accepted)" : $" for {(Reason?.Display is { } d ? $"{d} ({Reason.Code})" : Reason?.Code)}")
        + $"; stands back until {Until.UtcDateTime:yyyy-MM-dd}, or until its inputs change";
}

/// <summary>The audit event of one card left out because of earlier feedback.</summary>
public sealed record SuppressionRecord(
    DateTimeOffset At,
    string ServiceId,
    string? HookInstance,
    string PatientId,
    string? UserId,
    string RuleId,
    string RuleVersion,
    string Fingerprint,
    string Text,
    string Outcome,
    Coding? Reason,
    DateTimeOffset FeedbackAt,
    string? FeedbackBy,
    string FeedbackEventId,
    string InvocationEventId,
    DateTimeOffset Until);

/// <summary>The parts of a hook event's document a suppression is made from.</summary>
public sealed record SuppressionInvocationView(
    string? PatientId, string? UserId, IndexClientView? Client, IReadOnlyList<SuppressionRuleView>? Rules, IReadOnlyList<IndexCardView>? Cards);

public sealed record SuppressionRuleView(string? RuleId, string? Version, bool Fired, string? Fingerprint, string? NotShown);

public static class SuppressionKind
{
    public const string Event = "suppression";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SuppressionRecord))]
[JsonSerializable(typeof(SuppressionInvocationView))]
public sealed partial class SuppressionJson : JsonSerializerContext;

/// <summary>The suppressions table (migration 004): written after a feedback event is durable, read by every hook call
/// that has cards, in whichever instance it runs.</summary>
/// <remarks>The suppressions in force are kept in memory, and a hook's check costs no query (the query, with its
/// connection, was a third of an audited call's CPU at eight connections on SQLite, and half on PostgreSQL).
/// <list type="bullet">
/// <item>SQLite: one process owns the file (several instances use PostgreSQL), so every suppression was written through
/// here: the table is read once, and the copy is added to as rows are written.</item>
/// <item>PostgreSQL: other instances write too. Each addition is announced (NOTIFY) when it commits, and every instance
/// listens and reads the table again, so a stand-back given through one instance holds in the others a moment later.
/// While an instance is not listening (starting, or its listening connection lost) its calls read the table, as before.</item>
/// </list></remarks>
public sealed class SuppressionStore(AuditDatabase db, ILogger<SuppressionStore> logger) : BackgroundService
{
    private const string Columns = "dedupe_key, feedback_event_id, invocation_event_id, card_uuid, client_issuer, patient_id, rule_id, rule_version, "
        + "fingerprint, outcome, reason_system, reason_code, reason_display, user_id, at, until_at";

    /// <summary>PostgreSQL's channel for additions; the payload is the schema written to, so stores sharing a database
    /// do not read each other's.</summary>
    private const string Channel = "cdsmitral_suppressions";

    // The suppressions in force by client and patient, replaced whole (copy on write) under _gate. Null: not read yet
    // (SQLite), or not listening (PostgreSQL).
    private volatile Dictionary<(string Issuer, string Patient), Suppression[]>? _inForce;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>How hook calls check stand-backs now, in words for /health/ready.</summary>
    public string Mode => !db.IsPostgres ? "stand-backs checked in memory"
        : _inForce is null ? "stand-backs read from the store on every call (not listening for additions: starting, or reconnecting)"
        : "stand-backs checked in memory, kept current by the store's announcements";

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
                $"INSERT INTO suppressions ({Columns}) VALUES (@k, @f, @i, @c, @iss, @p, @r, @v, @fp, @o, @rs, @rc, @rd, @u, @at, @until) ON CONFLICT (dedupe_key) DO NOTHING",
                cancellationToken,
                ("k", s.DedupeKey), ("f", s.FeedbackEventId), ("i", s.InvocationEventId), ("c", s.CardUuid), ("iss", s.ClientIssuer), ("p", s.PatientId),
                ("r", s.RuleId), ("v", s.RuleVersion), ("fp", s.Fingerprint), ("o", s.Outcome), ("rs", s.Reason?.System), ("rc", s.Reason?.Code),
                ("rd", s.Reason?.Display), ("u", s.UserId), ("at", AuditStore.Timestamp(s.At)), ("until", AuditStore.Timestamp(s.Until)));
            if (db.IsPostgres)
            {
                await AuditDatabase.Execute(connection, null, $"SELECT pg_notify('{Channel}', current_schema())", cancellationToken);
            }
        }
        // After the row is committed, under the gate a read of the table holds: a read that began before the commit and
        // missed the row finishes first, and the row is added here; one that saw it is not added to twice.
        await _gate.WaitAsync(cancellationToken);
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
    public async Task<IReadOnlyList<Suppression>> InForceAsync(string clientIssuer, string patientId, IReadOnlyCollection<string> ruleIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ruleIds.Count == 0)
        {
            return [];
        }
        if ((_inForce ?? (db.IsPostgres ? null : await ReadTableAsync(again: false, cancellationToken))) is { } inForce)
        {
            return inForce.Count == 0 || !inForce.TryGetValue((clientIssuer, patientId), out var held)
                ? []
                : [.. held.Where(h => h.Until > now && ruleIds.Contains(h.RuleId)).OrderByDescending(h => h.At)];
        }
        var rules = ruleIds.Select((r, n) => ($"r{n}", (object?)r)).ToArray();
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT {Columns} FROM suppressions WHERE patient_id = @p AND client_issuer = @iss AND until_at > @now AND rule_id IN ({string.Join(",", rules.Select(r => "@" + r.Item1))}) ORDER BY at DESC",
            [("p", patientId), ("iss", clientIssuer), ("now", AuditStore.Timestamp(now)), .. rules]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new List<Suppression>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(Read(reader));
        }
        return found;
    }

    /// <summary>Reads the table into memory (<paramref name="again"/>: even if it was read). A failure leaves the copy
    /// as it was, and SQLite's next call tries again.</summary>
    private async Task<Dictionary<(string Issuer, string Patient), Suppression[]>> ReadTableAsync(bool again, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!again && _inForce is { } read)
            {
                return read;
            }
            var inForce = new Dictionary<(string Issuer, string Patient), Suppression[]>();
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

    /// <summary>PostgreSQL: listens for additions made by any instance and keeps the copy current; while it cannot, the
    /// copy is dropped and calls read the table. Reconnects after 1 s, doubling up to 30 s.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!db.IsPostgres)
        {
            return;
        }
        var wait = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = (Npgsql.NpgsqlConnection)await db.OpenAsync(stoppingToken);
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
                // Read after listening: an addition committed before is in what is read, one after is announced.
                await ReadTableAsync(again: true, stoppingToken);
                SuppressionLog.Listening(logger);
                wait = TimeSpan.FromSeconds(1);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                    if (Interlocked.Exchange(ref announced, 0) == 1)
                    {
                        await ReadTableAsync(again: true, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or TimeoutException or InvalidCastException)
            {
                _inForce = null;
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

    /// <summary>A copy of <paramref name="current"/> without what ran out before <paramref name="s"/> was given, and with it.</summary>
    private static Dictionary<(string Issuer, string Patient), Suppression[]> Added(Dictionary<(string Issuer, string Patient), Suppression[]> current, Suppression s)
    {
        var copy = new Dictionary<(string Issuer, string Patient), Suppression[]>(current.Count + 1);
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

    private static void Add(Dictionary<(string Issuer, string Patient), Suppression[]> inForce, Suppression s)
    {
        var key = (s.ClientIssuer, s.PatientId);
        var held = inForce.GetValueOrDefault(key, []);
        // A second delivery of the same feedback adds nothing, as the table's key on it.
        if (!held.Any(h => h.DedupeKey == s.DedupeKey))
        {
            inForce[key] = [.. held, s];
        }
    }

    private static Suppression Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTimeOffset Time(int i) => DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var reason = Text(11) is { } code ? new Coding(Text(10) ?? "", code, Text(12)) : null;
        return new Suppression(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.GetString(7), r.GetString(8), r.GetString(9), reason, Text(13), Time(14), Time(15));
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

    [LoggerMessage(54, LogLevel.Warning, "Not listening for stand-backs ({Type:l}: {Message:l}); calls read them from the store until listening again, tried in {Seconds} s")]
    public static partial void NotListening(ILogger logger, string type, string message, double seconds);
}
