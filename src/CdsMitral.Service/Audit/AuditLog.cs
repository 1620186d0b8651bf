namespace CdsMitral.Service.Audit;

/// <summary>The audit writer's log messages: the store and its spool, retention, the chain key, checkpoints, the index.</summary>
internal static partial class AuditLog
{
    [LoggerMessage(40, LogLevel.Error, "Audit store unavailable ({Type:l}: {Message:l}); records go to the spool")]
    public static partial void StoreUnavailable(ILogger logger, string type, string message);

    [LoggerMessage(41, LogLevel.Critical, "Audit spool failed ({Type:l}: {Message:l}); calls are refused until records can be kept")]
    public static partial void SpoolFailed(ILogger logger, string type, string message);

    [LoggerMessage(42, LogLevel.Warning, "{Count} audit records spooled to {Path:l}")]
    public static partial void Spooled(ILogger logger, int count, string path);

    [LoggerMessage(43, LogLevel.Information, "{Count} spooled audit records moved into the store")]
    public static partial void SpoolDrained(ILogger logger, int count);

    [LoggerMessage(44, LogLevel.Information, "Audit retention: {Count} events older than {OlderThan} archived to {Archive:l} and purged")]
    public static partial void Purged(ILogger logger, long count, DateTimeOffset olderThan, string archive);

    [LoggerMessage(58, LogLevel.Critical, "{Problem:l} The events stay in the chain; run /audit/api/verify?full=true")]
    public static partial void RetentionRefused(ILogger logger, string problem);

    [LoggerMessage(45, LogLevel.Warning, "CdsMitral:Audit:Store=None: hook calls are NOT audited. Use this only to measure the audit's cost.")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(46, LogLevel.Warning, "Generated a new audit chain key {KeyId:l} in {Path:l} (Development and tests only). Keep it apart from the database, and back it up: records it signs verify only with it. Outside Development set CdsMitral:Audit:ChainKey or ChainKeyFile.")]
    public static partial void ChainKeyGenerated(ILogger logger, string keyId, string path);

    [LoggerMessage(47, LogLevel.Information, "Audit chain keyed (HMAC-SHA256) with key {KeyId:l} from {Source:l}; {Retired} retired keys kept for verification; checkpoints go to {Checkpoints:l}")]
    public static partial void ChainKeyed(ILogger logger, string keyId, string source, int retired, string checkpoints);

    [LoggerMessage(50, LogLevel.Critical, "{Count} spooled lines are not signed with a known chain key and were not moved into the store; they are kept in {Path:l}")]
    public static partial void SpoolRejected(ILogger logger, int count, string path);

    [LoggerMessage(94, LogLevel.Critical, "Audit chain broken at seq {Seq}: {Problem:l} (found by the scheduled full walk)")]
    public static partial void ChainBroken(ILogger logger, long seq, string problem);

    [LoggerMessage(48, LogLevel.Critical, "Audit checkpoint refused: {Message:l}")]
    public static partial void CheckpointRefused(ILogger logger, string message);

    [LoggerMessage(51, LogLevel.Information, "Index rows of {Count} audited calls rebuilt from the chain (the process had stopped before writing them)")]
    public static partial void IndexRebuilt(ILogger logger, int count);

    [LoggerMessage(55, LogLevel.Error, "Insights not folded ({Type:l}: {Message:l}); tried again in {Seconds} s and at each maintenance")]
    public static partial void FoldFailed(ILogger logger, string type, string message, int seconds);

    [LoggerMessage(52, LogLevel.Error, "Index rows of {Count} audited calls not written yet ({Type:l}: {Message:l}); tried again, and rebuilt at start-up")]
    public static partial void IndexNotWritten(ILogger logger, int count, string type, string message);

    [LoggerMessage(49, LogLevel.Error, "Audit checkpoint not written ({Type:l}: {Message:l}); the next one is tried at the next interval")]
    public static partial void CheckpointFailed(ILogger logger, string type, string message);
}
