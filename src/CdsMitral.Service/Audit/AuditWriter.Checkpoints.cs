namespace CdsMitral.Service.Audit;

/// <summary>The background checkpoints: the chain head signed into the checkpoint file every interval, and SQLite's
/// WAL folded into the database beside the writer.</summary>
public sealed partial class AuditWriter
{
    // SQLite WAL checkpoints run beside the writer, asked for every CheckpointEvery records (about 20 pages of WAL
    // each): in the committing call they were a stall of megabytes written and synced every ~30 commits.
    private const int CheckpointEvery = 64;
    private readonly SemaphoreSlim _checkpointWanted = new(0, 1);
    private int _sinceWalCheckpoint;
    private volatile bool _walFoldWanted;

    /// <summary>SQLite: the rest of a background checkpoint, on the writer's own connection, between two commits. Under
    /// steady load the background one never catches up with the writer, and a WAL never fully folded is never started
    /// over: it grew to the backstop (64 MB) and every commit appended to a growing file, whose sync costs a journal
    /// commit of its own. Measured in docs/performance.md (2026-12-07, issue 27).</summary>
    /// <remarks>Only <see cref="WalCheckpoints"/> asks for it, and only on SQLite.</remarks>
    private async Task FoldWalIfWanted(System.Data.Common.DbConnection writer)
    {
        if (!_walFoldWanted)
        {
            return;
        }
        _walFoldWanted = false;
        try
        {
            await AuditDatabase.CheckpointWalAsync(writer, CancellationToken.None);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
        {
            AuditLog.CheckpointFailed(logger, e.GetType().Name, e.Message);
        }
    }

    private async Task WalCheckpoints(CancellationToken stoppingToken)
    {
        if (db.IsPostgres)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _checkpointWanted.WaitAsync(stoppingToken);
                await db.CheckpointWalAsync(stoppingToken);
                // What the writer appended while this ran is left for it to fold in before its next commit (a few commits'
                // pages): only a fully folded WAL lets that commit start the log over.
                _walFoldWanted = true;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                // Not a loss: the committed records are in the WAL, and the writer checkpoints itself past the backstop.
                AuditLog.CheckpointFailed(logger, e.GetType().Name, e.Message);
            }
        }
    }

    private async Task Checkpoints(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.CheckpointInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await Checkpoint(stoppingToken);
        }
    }

    private async Task Checkpoint(CancellationToken cancellationToken)
    {
        try
        {
            await store.CheckpointAsync(time, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            AuditLog.CheckpointRefused(logger, e.Message);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            AuditLog.CheckpointFailed(logger, e.GetType().Name, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the final checkpoint follows.
        }
    }
}
