namespace CdsMitral.Service.Audit;

/// <summary>The suppressions in force held in memory and kept current: read whole, added to as rows are written, read
/// again every Refresh and (PostgreSQL) whenever any instance announces a change.</summary>
public sealed partial class SuppressionStore
{
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
}

internal static partial class SuppressionLog
{
    [LoggerMessage(53, LogLevel.Information, "Stand-backs held in memory, kept current by the store's announcements")]
    public static partial void Listening(ILogger logger);

    [LoggerMessage(54, LogLevel.Warning, "Stand-backs not kept in memory ({Type:l}: {Message:l}); calls read them from the store until they are read again, tried in {Seconds} s")]
    public static partial void NotListening(ILogger logger, string type, string message, double seconds);
}
