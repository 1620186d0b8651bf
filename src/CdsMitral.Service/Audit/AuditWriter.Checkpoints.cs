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
