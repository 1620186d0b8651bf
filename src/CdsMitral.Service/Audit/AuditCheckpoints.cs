using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>A signed statement, kept outside the database, that the chain reached event <paramref name="Seq"/> with
/// hash <paramref name="Head"/> at <paramref name="At"/>, <paramref name="Events"/> events long. A database writer can
/// cut the newest events off and rewrite the head row, but cannot make the chain reach a checkpoint again.</summary>
public sealed record AuditCheckpoint(long Seq, long Events, string Head, DateTimeOffset At, string KeyId, string Mac)
{
    public static string SignedText(long seq, long events, string head, DateTimeOffset at, string keyId) =>
        string.Create(CultureInfo.InvariantCulture, $"checkpoint\n{seq}\n{events}\n{head}\n{AuditStore.Timestamp(at)}\n{keyId}");

    public static AuditCheckpoint Sign(AuditKey key, long seq, long events, string head, DateTimeOffset at) =>
        new(seq, events, head, at, key.Id, key.Sign(SignedText(seq, events, head, at, key.Id)));

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"the checkpoint of {At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
}

/// <summary>The checkpoint file: one signed checkpoint a line, appended and fsync'd, never rewritten.</summary>
public sealed class AuditCheckpoints(string path)
{
    /// <summary>How much of the file's end is read: the newest checkpoints are there (the writer never appends one
    /// lower than the last), so verification does not read a year of them.</summary>
    private const int Tail = 64 * 1024;

    private readonly Lock _lock = new();

    public string FilePath => path;

    public void Append(AuditCheckpoint checkpoint)
    {
        lock (_lock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough);
            // A line cut short by a crash is skipped when read; the leading newline keeps it from spoiling this one.
            file.Write(Encoding.UTF8.GetBytes("\n" + JsonSerializer.Serialize(checkpoint, AuditJson.Default.AuditCheckpoint) + "\n"));
            file.Flush(flushToDisk: true);
        }
    }

    /// <summary>The checkpoint of the highest sequence number among the newest ones, and what was wrong with the file:
    /// a line that reads as a checkpoint but is not signed by a known key was written by someone without the key.</summary>
    public (AuditCheckpoint? Newest, string? Problem) ReadNewest(AuditKeyring keys)
    {
        if (!File.Exists(path))
        {
            return (null, null);
        }
        string text;
        bool partialStart;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            partialStart = file.Length > Tail;
            file.Seek(Math.Max(0, file.Length - Tail), SeekOrigin.Begin);
            using var reader = new StreamReader(file, Encoding.UTF8);
            text = reader.ReadToEnd();
        }
        var lines = text.Split('\n');
        AuditCheckpoint? newest = null;
        string? problem = null;
        // The first piece may be the end of a line the tail cut into; the last is empty or a line a crash cut short.
        for (var i = partialStart ? 1 : 0; i < lines.Length - 1; i++)
        {
            if (lines[i].Length == 0 || Read(lines[i]) is not { } checkpoint)
            {
                continue;
            }
            var key = keys.Find(checkpoint.KeyId);
            if (key is null || key.Sign(AuditCheckpoint.SignedText(checkpoint.Seq, checkpoint.Events, checkpoint.Head, checkpoint.At, checkpoint.KeyId)) != checkpoint.Mac)
            {
                problem ??= key is null
                    ? $"the checkpoint file {path} has a checkpoint signed with key {checkpoint.KeyId}, which this service does not have"
                    : $"the checkpoint file {path} has a checkpoint (seq {checkpoint.Seq}) whose signature does not match: written without the key";
                continue;
            }
            if (newest is null || checkpoint.Seq >= newest.Seq)
            {
                newest = checkpoint;
            }
        }
        return (newest, problem);
    }

    private static AuditCheckpoint? Read(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, AuditJson.Default.AuditCheckpoint);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
