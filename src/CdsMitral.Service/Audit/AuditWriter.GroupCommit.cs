namespace CdsMitral.Service.Audit;

/// <summary>The group commit: what has queued is drained and committed as one transaction (rehearsals and index
/// markers among it handled), and a failed commit goes to the spool.</summary>
public sealed partial class AuditWriter
{
    private async Task DrainAndCommit(List<Pending> batch)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            if (batch.Count == 0)
            {
                return;
            }
            await Commit(batch);
        }
    }

    private async Task Commit(List<Pending> batch)
    {
        foreach (var p in batch.Where(p => p.Rehearsal))
        {
            await Rehearse(p);
        }
        var entries = batch.Where(p => p.Entry is not null && !p.Rehearsal).Select(p => p.Entry!).ToList();
        if (entries.Count > 0)
        {
            await CommitEntries(batch, entries);
        }
        if (batch.Count > entries.Count || _indexPending >= IndexBatch || _indexPending >= IndexWhenIdle && !_queue.Reader.TryPeek(out _))
        {
            await WriteIndex();
        }
        foreach (var p in batch.Where(p => p.Entry is null))
        {
            p.Done.TrySetResult();
        }
    }

    private async Task Rehearse(Pending rehearsal)
    {
        try
        {
            if (_migrated)
            {
                _connection ??= await db.OpenWriterAsync(CancellationToken.None);
                await store.RehearseAppendAsync(_connection, rehearsal.Entry!, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            // A failed rehearsal only costs the first call some speed; the connection is opened afresh for it.
            await (_connection?.DisposeAsync() ?? ValueTask.CompletedTask);
            _connection = null;
        }
        rehearsal.Done.TrySetResult();
    }

    private async Task CommitEntries(List<Pending> batch, List<AuditEntry> entries)
    {
        IReadOnlyList<AuditStore.Appended>? appended = null;
        try
        {
            if (!_migrated)
            {
                throw new InvalidOperationException("the audit schema is not in place yet");
            }
            _connection ??= await db.OpenWriterAsync(CancellationToken.None);
            await FoldWalIfWanted(_connection);
            appended = await store.AppendAsync(_connection, entries, CancellationToken.None, deferred: db.IsPostgres ? null : _index);
            _indexPending = _index.Count;
            _commits++;
            StoreHealthy = true;
            if ((_sinceWalCheckpoint += entries.Count) >= CheckpointEvery && _checkpointWanted.CurrentCount == 0)
            {
                _sinceWalCheckpoint = 0;
                _checkpointWanted.Release();
            }
        }
        catch (Exception e)
        {
            StoreHealthy = false;
            // The connection may be what failed: the next batch opens a fresh one.
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
            AuditLog.StoreUnavailable(logger, e.GetType().Name, e.Message);
            try
            {
                await Spool(entries);
            }
            catch (Exception spoolError)
            {
                AuditLog.SpoolFailed(logger, spoolError.GetType().Name, spoolError.Message);
                foreach (var p in batch.Where(p => p.Entry is not null))
                {
                    p.Done.TrySetException(new InvalidOperationException("The audit record could be written neither to the store nor to the spool.", spoolError));
                }
                return;
            }
        }
        if (appended is not null)
        {
            RememberForInsights(entries, appended);
        }
        foreach (var p in batch.Where(p => p.Entry is not null))
        {
            p.Done.TrySetResult();
        }
    }
}
