namespace CdsMitral.Service.Audit;

/// <summary>SQLite's index rows of answered calls, written after the answers: in batches, when idle, and before a
/// reader that needs them.</summary>
public sealed partial class AuditWriter
{
    // SQLite: index rows of answered calls, written after the answers: IndexBatch calls at a time, IndexWhenIdle once the
    // queue is empty, or after IndexIdle without a commit (16 calls' rows in one transaction write about a page per
    // index, not a page per index per call).
    private const int IndexBatch = 64;
    private const int IndexWhenIdle = 16;
    private static readonly TimeSpan IndexIdle = TimeSpan.FromMilliseconds(50);
    private readonly AuditStore.PendingIndex _index = new();
    private volatile int _indexPending;
    private volatile int _commits;

    /// <summary>Completes once the index rows of every call answered before it are in their tables.</summary>
    private Task IndexCaughtUpAsync(CancellationToken cancellationToken)
    {
        if (_indexPending == 0)
        {
            return Task.CompletedTask;
        }
        var marker = new Pending(null, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        // A writer that has stopped wrote its pending rows on the way out.
        return _queue.Writer.TryWrite(marker) ? marker.Done.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
    }

    /// <summary>Asks for the pending index rows to be written when no call has been committed for a while: one timer,
    /// not one per commit.</summary>
    private async Task IdleIndex(CancellationToken stoppingToken)
    {
        if (db.IsPostgres)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var seen = _commits;
            try
            {
                await Task.Delay(IndexIdle, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (_indexPending > 0 && _commits == seen)
            {
                _queue.Writer.TryWrite(new Pending(null, new TaskCompletionSource()));
            }
        }
    }

    /// <summary>Writes the pending index rows (SQLite). A failure leaves them pending: they are tried again, and a
    /// restart rebuilds them from the chain.</summary>
    private async Task WriteIndex()
    {
        if (_indexPending == 0)
        {
            return;
        }
        try
        {
            _connection ??= await db.OpenWriterAsync(CancellationToken.None);
            await store.WriteIndexAsync(_connection, _index, CancellationToken.None);
            _indexPending = 0;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            AuditLog.IndexNotWritten(logger, _index.Count, e.GetType().Name, e.Message);
        }
    }
}
