namespace CdsMitral.Service.Audit;

/// <summary>The maintenance loop: schema, spool drain, retention, replay-cache expiry, the scheduled full walk and the
/// insights fold, every MaintenanceInterval.</summary>
public sealed partial class AuditWriter
{
    private DateTimeOffset? _maintainedSince;

    /// <summary>The whole chain walked again every FullVerifyInterval (first a few minutes after start): what the cheap
    /// checks of the pages cannot see, an event altered after it was proved, shows here, logged as critical.</summary>
    private async Task FullWalkIfDue(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        _maintainedSince ??= now;
        var interval = _options.FullVerifyInterval;
        var due = store.LastFullWalk is { } last ? last + interval : _maintainedSince.Value + TimeSpan.FromMinutes(Math.Min(5, interval.TotalMinutes));
        if (interval > TimeSpan.Zero && now >= due)
        {
            var report = await store.VerifyAsync(time, full: true, stoppingToken);
            if (!report.Intact)
            {
                AuditLog.ChainBroken(logger, report.FirstBrokenSeq ?? 0, report.Problem ?? "");
            }
        }
    }

    /// <summary>Archives and purges what is older than the retention, counted to the start of a UTC day (so that one
    /// purge a day takes a whole day, rather than each maintenance pass a few events), a slice at a time.</summary>
    private async Task ApplyRetention(CancellationToken stoppingToken)
    {
        var cut = new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(-_options.RetentionDays);
        try
        {
            while (await store.PurgeAsync(cut, time, stoppingToken) is { } purge)
            {
                AuditLog.Purged(logger, purge.EventsRemoved, purge.OlderThan, purge.Archive ?? "");
                if (purge.EventsRemoved < AuditStore.PurgeSlice)
                {
                    break;
                }
            }
        }
        catch (RetentionRefusedException e)
        {
            AuditLog.RetentionRefused(logger, e.Message);
        }
    }

    private readonly SemaphoreSlim _foldWanted = new(0, 1);

    /// <summary>What the insights fold counts of the entries just written, kept until it has; and a fold asked for
    /// once a chunk of them waits, so that under load they are folded from memory before
    /// <see cref="InsightsRollup.MaxRemembered"/> is reached, not only every MaintenanceInterval. After the commit: a
    /// fold that reads the rows first reads their documents, and the parts kept after are dropped by seq.</summary>
    private void RememberForInsights(IReadOnlyList<AuditEntry> entries, IReadOnlyList<AuditStore.Appended> appended)
    {
        if (insights is null)
        {
            return;
        }
        insights.Remember(entries, appended);
        if (insights.Remembered >= InsightsRollup.Chunk && _foldWanted.CurrentCount == 0 && _running)
        {
            _foldWanted.Release();
        }
    }

    /// <summary>How long a failed fold waits before the next one asked for: the store is away, and the calls meanwhile
    /// are read back later.</summary>
    private static readonly TimeSpan FoldRetry = TimeSpan.FromSeconds(5);

    private async Task FoldsWhenDue(CancellationToken stoppingToken)
    {
        while (insights is not null && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _foldWanted.WaitAsync(stoppingToken);
                await insights.FoldAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                AuditLog.FoldFailed(logger, e.GetType().Name, e.Message, (int)FoldRetry.TotalSeconds);
                try
                {
                    await Task.Delay(FoldRetry, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task Maintain(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_migrated)
                {
                    await TryMigrate(stoppingToken);
                }
                if (_migrated)
                {
                    await DrainSpoolAsync(stoppingToken);
                    // The schema is in place and the spool chained before start-up goes on; the rest runs beside it.
                    // SQLite's async calls complete synchronously, so without this what follows (a first fold of a year's
                    // insights, a purge) would hold the host's start-up, and readiness, for as long as it takes.
                    await Task.Yield();
                    if (_options.RetentionDays > 0)
                    {
                        await ApplyRetention(stoppingToken);
                    }
                    if (db.IsPostgres)
                    {
                        await store.ForgetExpiredJtisAsync(time.GetUtcNow(), stoppingToken);
                    }
                    await FullWalkIfDue(stoppingToken);
                    if (insights is not null)
                    {
                        await insights.FoldAsync(stoppingToken); // so that /audit/insights has little left to fold
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                AuditLog.StoreUnavailable(logger, e.GetType().Name, e.Message);
            }
            try
            {
                await Task.Delay(_options.MaintenanceInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
