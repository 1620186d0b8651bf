namespace CdsMitral.Service.Audit;

/// <summary>One run of a piece of work at a time in this process (the chain's walk, the insights' fold): a caller that
/// finds a run under way waits for it, then starts its own, which sees what that one left. The work runs on the thread
/// pool: SQLite's async calls complete synchronously, so started inline it would run inside the gate, and hold a caller
/// that only means to wait a little for it.</summary>
public sealed class OneAtATime<T>
{
    private readonly Lock _gate = new();
    private Task<T>? _running;

    /// <summary>Whether a run is under way.</summary>
    public bool Running
    {
        get
        {
            lock (_gate)
            {
                return _running is not null;
            }
        }
    }

    public async Task<T> RunAsync(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        Task<T> mine;
        while (true)
        {
            Task<T>? running;
            lock (_gate)
            {
                running = _running;
                if (running is null)
                {
                    mine = _running = Task.Run(work, CancellationToken.None);
                    break;
                }
            }
            try
            {
                await running.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // its caller sees its failure; this one runs on its own
            }
        }
        try
        {
            return await mine;
        }
        finally
        {
            lock (_gate)
            {
                if (_running == mine)
                {
                    _running = null;
                }
            }
        }
    }
}
