using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>What an archive's last line signs: which store's events <paramref name="FirstSeq"/> to <paramref name="LastSeq"/>
/// it holds, the hash the first one follows and the hash of the last (the remaining chain's new anchor), and the SHA-256
/// of the event lines before it. HMAC-SHA256 with the chain key <paramref name="KeyId"/>.</summary>
public sealed record ArchiveSeal(string Store, long FirstSeq, long LastSeq, long Events, string StartsAfter, string EndsAt, string Sha256,
    DateTimeOffset At, DateTimeOffset OlderThan, string KeyId, string Mac)
{
    public static string SignedText(string store, long firstSeq, long lastSeq, long events, string startsAfter, string endsAt, string sha256,
        DateTimeOffset at, DateTimeOffset olderThan, string keyId) =>
        string.Create(CultureInfo.InvariantCulture,
            $"archive\n{store}\n{firstSeq}\n{lastSeq}\n{events}\n{startsAfter}\n{endsAt}\n{sha256}\n{AuditStore.Timestamp(at)}\n{AuditStore.Timestamp(olderThan)}\n{keyId}");

    public string Text => SignedText(Store, FirstSeq, LastSeq, Events, StartsAfter, EndsAt, Sha256, At, OlderThan, KeyId);

    public static ArchiveSeal Sign(AuditKey key, string store, long firstSeq, long lastSeq, string startsAfter, string endsAt, string sha256,
        DateTimeOffset at, DateTimeOffset olderThan)
    {
        var events = lastSeq - firstSeq + 1;
        return new(store, firstSeq, lastSeq, events, startsAfter, endsAt, sha256, at, olderThan, key.Id,
            key.Sign(SignedText(store, firstSeq, lastSeq, events, startsAfter, endsAt, sha256, at, olderThan, key.Id)));
    }
}

/// <summary>One archive file as a check found it. <paramref name="Intact"/> is false when something in it, or what the
/// chain recorded about it, does not hold; <paramref name="Note"/> says what is merely worth knowing (an archive whose
/// purge record is itself in an archive not in the folder, say).</summary>
public sealed record ArchiveReport(string File, bool Intact, string? Problem, long? FirstSeq, long? LastSeq, long Events,
    string? StartsAfter, string? EndsAt, string? Sha256, string? NamedBy, string? Note);

/// <summary>The answer of /audit/api/archives: each archive of this store in the folder, oldest first, and what the
/// remaining chain's newest purge says about the archive it wrote.</summary>
public sealed record ArchivesReport(string Folder, bool Intact, IReadOnlyList<ArchiveReport> Archives, string Summary);

/// <summary>The folder where retention puts what it removes from the chain: one gzip'd NDJSON file per purge, each event
/// exactly as it was stored and hashed (so its HMAC can be checked again), then a signed seal. Written to a ".partial"
/// name, flushed to disk and renamed before the events leave the database; a file whose purge never committed is
/// removed by the next purge. Compressed because a hook's record is ~11 KB of JSON: a day of a health system's calls is
/// hundreds of megabytes as text and a tenth of that gzip'd (`zcat` reads it).</summary>
public sealed class AuditArchives(string folder, string store)
{
    private const string Prefix = "audit-archive-";

    public string Folder => folder;

    public string Store => store;

    /// <summary>Files of this store begin with a short digest of its identity, so stores sharing a folder keep apart.</summary>
    private string StorePrefix { get; } = Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store)))[..8] + "-";

    public string NameFor(long firstSeq, long lastSeq) =>
        string.Create(CultureInfo.InvariantCulture, $"{StorePrefix}{firstSeq:D12}-{lastSeq:D12}.ndjson.gz");

    /// <summary>This store's archive files, oldest first (their names sort by their first event).</summary>
    public IReadOnlyList<string> Files() => Directory.Exists(folder)
        ? [.. Directory.EnumerateFiles(folder, StorePrefix + "*.ndjson.gz").Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Removes archives of events still in the chain (from <paramref name="anchorSeq"/> on), left by purges that
    /// wrote their file but did not commit, once they are older than <paramref name="settled"/> (another instance sharing
    /// the folder may be about to commit its own).</summary>
    public void RemoveUncommitted(long anchorSeq, TimeSpan settled)
    {
        foreach (var file in Files().Concat(Directory.Exists(folder) ? Directory.EnumerateFiles(folder, StorePrefix + "*.partial") : []))
        {
            if (FirstSeqOf(file) > anchorSeq && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > settled)
            {
                File.Delete(file);
            }
        }
    }

    private long FirstSeqOf(string file)
    {
        var name = Path.GetFileName(file);
        return name.Length >= StorePrefix.Length + 12 && long.TryParse(name.AsSpan(StorePrefix.Length, 12), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            ? seq
            : long.MaxValue;
    }

    public Writer Begin(long firstSeq, long lastSeq) => new(Path.Combine(folder, NameFor(firstSeq, lastSeq)));

    /// <summary>Writes one archive: events in order, then <see cref="Seal"/>. Nothing is at the final name until then.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly string _path;
        private readonly FileStream _disk;
        private readonly HashingStream _hashed;
        private readonly GZipStream _file;
        private readonly IncrementalHash _events = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly System.Buffers.ArrayBufferWriter<byte> _line = new(16 * 1024);
        private bool _sealed;

        internal Writer(string path)
        {
            _path = path;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            _disk = new FileStream(path + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024);
            _hashed = new HashingStream(_disk);
            _file = new GZipStream(_hashed, CompressionLevel.Fastest, leaveOpen: true);
        }

        public string Name => Path.GetFileName(_path);

        public void Add(StoredEvent e)
        {
            _line.Clear();
            using (var json = new Utf8JsonWriter(_line))
            {
                json.WriteStartObject();
                json.WriteNumber("seq", e.Seq);
                json.WriteString("id", e.Id);
                json.WriteString("kind", e.Kind);
                json.WriteString("at", e.AtText);
                if (e.KeyId is not null)
                {
                    json.WriteString("keyId", e.KeyId);
                }
                json.WriteString("prevHash", e.PrevHash);
                json.WriteString("hash", e.Hash);
                json.WriteString("document", e.Document); // as a string: the bytes the HMAC covers, whatever they are
                json.WriteEndObject();
            }
            Write(_line.WrittenSpan, _events);
        }

        private void Write(ReadOnlySpan<byte> line, IncrementalHash? also)
        {
            ReadOnlySpan<byte> newline = "\n"u8;
            _file.Write(line);
            _file.Write(newline);
            also?.AppendData(line);
            also?.AppendData(newline);
        }

        /// <summary>The SHA-256 of the event lines so far, for the seal to sign.</summary>
        public string EventsSha256 => Convert.ToHexStringLower(_events.GetCurrentHash());

        /// <summary>Appends the seal, flushes the file to disk and gives it its name. Returns the SHA-256 of the file as
        /// it is on disk (what `sha256sum` says), which the purge event records.</summary>
        public string Seal(ArchiveSeal seal)
        {
            Write(JsonSerializer.SerializeToUtf8Bytes(new ArchiveSealLine(seal), AuditJson.Default.ArchiveSealLine), also: null);
            _file.Dispose(); // writes the gzip trailer
            _disk.Flush(flushToDisk: true);
            _disk.Dispose();
            File.Move(_path + ".partial", _path, overwrite: true);
            _sealed = true;
            return _hashed.Sha256;
        }

        /// <summary>Removes the file, sealed or not (the purge that wrote it did not commit).</summary>
        public void Abandon()
        {
            Close();
            File.Delete(_path + ".partial");
            if (_sealed)
            {
                File.Delete(_path);
            }
        }

        public void Dispose()
        {
            if (!_sealed)
            {
                Close();
                File.Delete(_path + ".partial");
            }
            _events.Dispose();
            _hashed.Dispose();
        }

        private void Close()
        {
            try
            {
                _file.Dispose();
            }
            catch (IOException)
            {
                // The disk failed under the write: the file is removed either way.
            }
            _disk.Dispose();
        }
    }

    /// <summary>Reads an archive back: its events (checked by <paramref name="sealProblem"/>, linked one to the next),
    /// its seal (signed by a key of <paramref name="keys"/>, agreeing with the events and naming this store) and the
    /// SHA-256 of the whole file. Streams: one line in memory at a time.</summary>
    public (ArchiveReport Report, List<PurgeRecord> Purges) Check(string file, AuditKeyring keys, Func<StoredEvent, string?> sealProblem)
    {
        var name = Path.GetFileName(file);
        var purges = new List<PurgeRecord>();
        using var events = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long? first = null;
        long count = 0, line = 0;
        string? startsAfter = null, previous = null;
        ArchiveSeal? seal = null;
        ArchiveReport Broken(string problem) => new(name, false, $"line {line}: {problem}", first, first + count - 1, count, startsAfter, previous, null, null, null);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        using var hashed = new HashingStream(stream);
        using var reader = new StreamReader(new GZipStream(hashed, CompressionMode.Decompress), new UTF8Encoding(false, throwOnInvalidBytes: true));
        try
        {
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (seal is not null)
                {
                    return (Broken("there is more after the seal"), purges);
                }
                var bytes = Encoding.UTF8.GetBytes(text + "\n");
                using var json = JsonDocument.Parse(bytes);
                if (json.RootElement.TryGetProperty("seal", out _))
                {
                    seal = JsonSerializer.Deserialize(json.RootElement, AuditJson.Default.ArchiveSealLine)?.Seal;
                    continue;
                }
                var e = ReadEvent(json.RootElement);
                events.AppendData(bytes);
                if (first is null)
                {
                    (first, startsAfter, previous) = (e.Seq, e.PrevHash, e.PrevHash);
                }
                if (AuditStore.LinkProblem(e, first.Value + count, previous!, sealProblem) is { } problem)
                {
                    return (Broken(problem), purges);
                }
                if (e.Kind == EventKind.Purge && AuditStore.ReadPurge(e.Document) is { } purge)
                {
                    purges.Add(purge);
                }
                count++;
                previous = e.Hash;
            }
        }
        catch (Exception ex) when (ex is JsonException or DecoderFallbackException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException)
        {
            return (Broken($"it cannot be read ({ex.GetType().Name})"), purges);
        }
        if (seal is null)
        {
            return (Broken("it has no seal: cut short, or written by something other than a purge"), purges);
        }
        var key = keys.Find(seal.KeyId);
        string? sealBroken = key is null ? $"its seal is signed with chain key {seal.KeyId}, which this service does not have"
            : key.Sign(seal.Text) != seal.Mac ? "its seal's signature does not match: the seal was written without the key"
            : seal.Store != store ? $"its seal names another store ({seal.Store})"
            : seal.FirstSeq != first || seal.LastSeq != first + count - 1 || seal.Events != count ? $"its seal says events {seal.FirstSeq}–{seal.LastSeq}, the file holds {count} from {first}"
            : seal.StartsAfter != startsAfter || seal.EndsAt != previous ? "its seal names other hashes than its first and last events"
            : seal.Sha256 != Convert.ToHexStringLower(events.GetCurrentHash()) ? "its events differ from those its seal signed"
            : null;
        hashed.CopyTo(Stream.Null); // anything after the gzip stream counts in the file's digest too
        var digest = hashed.Sha256;
        return sealBroken is not null
            ? (Broken(sealBroken), purges)
            : (new ArchiveReport(name, true, null, first, seal.LastSeq, count, startsAfter, previous, digest, null, null), purges);
    }

    private static StoredEvent ReadEvent(JsonElement e)
    {
        var at = e.GetProperty("at").GetString()!;
        return new StoredEvent(e.GetProperty("seq").GetInt64(), e.GetProperty("id").GetString()!, e.GetProperty("kind").GetString()!,
            AuditStore.ReadTimestamp(at), e.GetProperty("document").GetString()!, e.GetProperty("prevHash").GetString()!,
            e.GetProperty("hash").GetString()!, e.TryGetProperty("keyId", out var k) ? k.GetString() : null) { AtText = at };
    }
}

/// <summary>The last line of an archive.</summary>
public sealed record ArchiveSealLine(ArchiveSeal Seal);
