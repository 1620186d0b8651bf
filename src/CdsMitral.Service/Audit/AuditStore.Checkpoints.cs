using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>Checkpoints: the head this process last committed, signed and appended to the checkpoint file, outside the
/// database.</summary>
public sealed partial class AuditStore
{
    private ChainPosition? _checkpointed;

    /// <summary>Signs the head this process last committed and appends it to the checkpoint file, if it moved since the
    /// last checkpoint. Refuses to sign a head below the newest checkpoint: that chain has lost its newest events.</summary>
    public async Task<AuditCheckpoint?> CheckpointAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        if (checkpoints is null || _head is not { } head || head == _checkpointed)
        {
            return null;
        }
        var (newest, _) = checkpoints.ReadNewest(keys);
        if (newest is not null && newest.Seq > head.Seq)
        {
            throw new InvalidOperationException($"the chain head (seq {head.Seq}) is below {newest.Describe()} (seq {newest.Seq}): its newest events were removed; no checkpoint is written");
        }
        long events;
        await using (var connection = await db.OpenAsync(cancellationToken))
        await using (var count = AuditDatabase.Command(connection, null, "SELECT count(*) FROM audit_events WHERE seq <= @s", ("s", head.Seq)))
        {
            events = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        var checkpoint = AuditCheckpoint.Sign(keys.Current, head.Seq, events, head.Hash, time.GetUtcNow(), checkpoints.Store);
        checkpoints.Append(checkpoint);
        _checkpointed = head;
        return checkpoint;
    }
}
