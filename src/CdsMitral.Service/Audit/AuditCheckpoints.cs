using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>A signed statement, kept outside the database, that the chain of <paramref name="Store"/> reached event
/// <paramref name="Seq"/> with hash <paramref name="Head"/> at <paramref name="At"/>, <paramref name="Events"/> events long.
/// A database writer can cut the newest events off and rewrite the head row, but cannot make the chain reach a checkpoint
/// again. <paramref name="Store"/> is null in checkpoints written before stores were told apart.</summary>
public sealed record AuditCheckpoint(long Seq, long Events, string Head, DateTimeOffset At, string KeyId, string Mac, string? Store = null)
{
    public static string SignedText(long seq, long events, string head, DateTimeOffset at, string keyId, string? store) =>
        string.Create(CultureInfo.InvariantCulture, $"checkpoint\n{seq}\n{events}\n{head}\n{AuditStore.Timestamp(at)}\n{keyId}")
        + (store is null ? "" : "\n" + store);

    public static AuditCheckpoint Sign(AuditKey key, long seq, long events, string head, DateTimeOffset at, string? store) =>
        new(seq, events, head, at, key.Id, key.Sign(SignedText(seq, events, head, at, key.Id, store)), store);

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"the checkpoint of {At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
}

/// <summary>The checkpoint file: one signed checkpoint a line, appended and fsync'd, never rewritten. Each names the store
/// it checkpoints (<paramref name="store"/>, <see cref="AuditOptions.StoreIdentity"/>), so that stores sharing a folder,
/// and so a file, are each checked against their own.</summary>
public sealed class AuditCheckpoints(string path, string store)
{
    /// <summary>How much of the file's end is read: the newest checkpoints are there (the writer never appends one
    /// lower than the last), so verification does not read a year of them.</summary>
    private const int Tail = 64 * 1024;

    private readonly Lock _lock = new();

    public string FilePath => path;

    public string Store => store;

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

    /// <summary>This store's checkpoint of the highest sequence number among the newest ones, and what was wrong with the
    /// file: a line that reads as a checkpoint but is not signed by a known key was written by someone without the key.
    /// Checkpoints of other stores are passed over; those that name no store (written before stores were told apart)
    /// count only while the file holds none of this store's.</summary>
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
        AuditCheckpoint? newest = null, newestUnnamed = null;
        string? problem = null;
        // The first piece may be the end of a line the tail cut into; the last is empty or a line a crash cut short.
        for (var i = partialStart ? 1 : 0; i < lines.Length - 1; i++)
        {
            if (lines[i].Length == 0 || Read(lines[i]) is not { } checkpoint || (checkpoint.Store is { } other && other != store))
            {
                continue;
            }
            var key = keys.Find(checkpoint.KeyId);
            if (key is null || key.Sign(AuditCheckpoint.SignedText(checkpoint.Seq, checkpoint.Events, checkpoint.Head, checkpoint.At, checkpoint.KeyId, checkpoint.Store)) != checkpoint.Mac)
            {
                problem ??= key is null
                    ? $"the checkpoint file {path} has a checkpoint signed with key {checkpoint.KeyId}, which this service does not have"
                    : $"the checkpoint file {path} has a checkpoint (seq {checkpoint.Seq}) whose signature does not match: written without the key";
                continue;
            }
            if (checkpoint.Store is null)
            {
                if (newestUnnamed is null || checkpoint.Seq >= newestUnnamed.Seq)
                {
                    newestUnnamed = checkpoint;
                }
            }
            else if (newest is null || checkpoint.Seq >= newest.Seq)
            {
                newest = checkpoint;
            }
        }
        return (newest ?? newestUnnamed, problem);
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
