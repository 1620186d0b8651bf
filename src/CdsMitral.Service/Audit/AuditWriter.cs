using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Audit;

/// <summary>
/// Makes audit entries durable before their call is answered. Requests queue their entry and wait; one loop commits
/// whatever has queued up as a single transaction (group commit), so many calls share one fsync. If the store cannot
/// be written, the batch is appended to a spool file and fsync'd instead — still durable — and moved into the store
/// when it is back (appends are idempotent by event id, so a crash mid-move duplicates nothing). A call that finds the
/// writer idle and nothing queued commits its own entry on its own thread: one clinician opening a chart then pays the
/// commit, not two thread hand-offs around it.
/// </summary>
public sealed partial class AuditWriter(AuditStore store, AuditDatabase db, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditWriter> logger,
    InsightsRollup? insights = null)
    : BackgroundService
{
    /// <summary>An entry to make durable, or (Entry null) a reader waiting for the index rows of what was answered.</summary>
    private sealed record Pending(AuditEntry? Entry, TaskCompletionSource Done, bool Rehearsal = false);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _spoolLock = new(1, 1);
    private readonly AuditOptions _options = options.Value;
    private volatile bool _migrated;
    private System.Data.Common.DbConnection? _connection;
    // One committer at a time: the loop, or a call committing inline. It guards the connection, the chain head and the
    // pending index rows.
    private readonly SemaphoreSlim _committing = new(1, 1);
    private volatile bool _running;

    public bool Enabled => _options.Store != AuditStoreKind.None;

    /// <summary>True while the last write reached the store (false while records go to the spool).</summary>
    public bool StoreHealthy { get; private set; } = true;

    /// <summary>The warm-up's way through this writer's own connection and statements: <paramref name="entry"/> is
    /// appended and rolled back, so the first real commit finds them open, prepared and compiled. Nothing is kept.</summary>
    public Task RehearseAsync(AuditEntry entry)
    {
        var pending = new Pending(entry, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), Rehearsal: true);
        return _queue.Writer.TryWrite(pending) ? pending.Done.Task : Task.CompletedTask;
    }

    /// <summary>Completes when the entry is durable (in the store or the spool); throws if it could be neither.</summary>
    public Task WriteAsync(AuditEntry entry)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }
        if (_running && !_queue.Reader.TryPeek(out _) && _committing.Wait(0))
        {
            return CommitInline(entry);
        }
        var pending = new Pending(entry, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Done.SetException(new InvalidOperationException("The audit writer has stopped."));
        }
        return pending.Done.Task;
    }

    /// <summary>The caller's own commit, on its thread, while it holds the writer. Index rows that are due are left to the
    /// loop, off the caller's path.</summary>
    private async Task CommitInline(AuditEntry entry)
    {
        var pending = new Pending(entry, new TaskCompletionSource());
        try
        {
            if (!_running)
            {
                // Stopped between the check and the lock: the loop has drained and will write nothing more.
                throw new InvalidOperationException("The audit writer has stopped.");
            }
            await CommitEntries([pending], [entry]);
        }
        finally
        {
            _committing.Release();
        }
        if (_indexPending >= IndexWhenIdle)
        {
            _queue.Writer.TryWrite(new Pending(null, new TaskCompletionSource()));
        }
        await pending.Done.Task;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            AuditLog.Disabled(logger);
            return;
        }
        var keys = store.Keys;
        if (keys.Generated)
        {
            AuditLog.ChainKeyGenerated(logger, keys.Current.Id, _options.ChainKeyFilePath);
        }
        AuditLog.ChainKeyed(logger, keys.Current.Id, keys.Source, keys.All.Count - 1, _options.CheckpointFilePath);
        await TryMigrate(cancellationToken);
        if (!db.IsPostgres)
        {
            store.IndexCatchUp = IndexCaughtUpAsync;
        }
        if (insights is not null)
        {
            store.FoldCatchUp = insights.FoldAsync;
        }
        await base.StartAsync(cancellationToken);
    }

    private async Task TryMigrate(CancellationToken cancellationToken)
    {
        try
        {
            await db.MigrateAsync(cancellationToken);
            if (!db.IsPostgres && await store.RebuildIndexAsync(cancellationToken) is > 0 and var rebuilt)
            {
                AuditLog.IndexRebuilt(logger, rebuilt);
            }
            _migrated = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            StoreHealthy = false;
            AuditLog.StoreUnavailable(logger, e.GetType().Name, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var maintenance = Maintain(stoppingToken);
        var checkpoints = Checkpoints(stoppingToken);
        var walCheckpoints = WalCheckpoints(stoppingToken);
        var idleIndex = IdleIndex(stoppingToken);
        var folds = FoldsWhenDue(stoppingToken);
        var batch = new List<Pending>(_options.MaxBatch);
        _running = true;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await _committing.WaitAsync(stoppingToken);
                try
                {
                    await DrainAndCommit(batch);
                }
                finally
                {
                    _committing.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is queued still gets written, after any inline commit under way.
            await _committing.WaitAsync(CancellationToken.None);
            _running = false;
            _queue.Writer.TryComplete();
            await DrainAndCommit(batch);
        }
        _running = false;
        await WriteIndex();
        await idleIndex;
        await maintenance;
        await checkpoints;
        await walCheckpoints;
        await folds;
        // The last head this process committed, anchored outside the database before it stops.
        await Checkpoint(CancellationToken.None);
    }

    public override void Dispose()
    {
        _connection?.Dispose();
        _spoolLock.Dispose();
        _committing.Dispose();
        _checkpointWanted.Dispose();
        _foldWanted.Dispose();
        base.Dispose();
    }
}
