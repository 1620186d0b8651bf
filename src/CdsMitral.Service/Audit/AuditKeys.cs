using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CdsMitral.Service.Audit;

/// <summary>One chain key: its id (the first 8 bytes of SHA-256 of the key, hex) is stored with every record it signs.</summary>
public sealed class AuditKey
{
    private readonly byte[] _secret;

    public AuditKey(byte[] secret)
    {
        _secret = secret;
        Id = AuditKeyring.IdOf(secret);
    }

    public string Id { get; }

    /// <summary>HMAC-SHA256 over the UTF-8 of "prev\nseq\nid\nkind\nat\nkeyId\ndocument", built in one pooled buffer and
    /// hashed in one call: no allocation per record beyond the hex string it returns.</summary>
    public string Sign(string prevHash, long seq, string id, string kind, string at, string document)
    {
        var (buffer, length) = Header(prevHash, seq, id, kind, at, Encoding.UTF8.GetMaxByteCount(document.Length));
        try
        {
            // Encoded straight after the fields, not into a buffer of its own first.
            return Mac(buffer, length + Encoding.UTF8.GetBytes(document, buffer.AsSpan(length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The same HMAC, over a document already in UTF-8 (a hook's record, as stored).</summary>
    public string Sign(string prevHash, long seq, string id, string kind, string at, ReadOnlySpan<byte> document)
    {
        var (buffer, length) = Header(prevHash, seq, id, kind, at, document.Length);
        try
        {
            document.CopyTo(buffer.AsSpan(length));
            return Mac(buffer, length + document.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A pooled buffer holding "prev\nseq\nid\nkind\nat\nkeyId\n" with room for the document after it.</summary>
    private (byte[] Buffer, int Length) Header(string prevHash, long seq, string id, string kind, string at, int documentBytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(documentBytes + Encoding.UTF8.GetMaxByteCount(prevHash.Length + id.Length + kind.Length + at.Length + Id.Length) + 32);
        var length = 0;
        void Add(string part)
        {
            length += Encoding.UTF8.GetBytes(part, buffer.AsSpan(length));
            buffer[length++] = (byte)'\n';
        }
        Add(prevHash);
        seq.TryFormat(buffer.AsSpan(length), out var digits, default, CultureInfo.InvariantCulture);
        length += digits;
        buffer[length++] = (byte)'\n';
        Add(id);
        Add(kind);
        Add(at);
        Add(Id);
        return (buffer, length);
    }

    private string Mac(byte[] buffer, int length)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_secret, buffer.AsSpan(0, length), mac);
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>HMAC-SHA256 of a short text (a checkpoint's fields).</summary>
    public string Sign(string text) => Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(text)));

    public override string ToString() => $"chain key {Id}";
}

/// <summary>The chain keys this service knows: the current one, which signs what is appended now, and retired ones,
/// kept so that records and checkpoints they signed still verify after a rotation.</summary>
public sealed class AuditKeyring
{
    public const int MinimumKeyBytes = 16;

    public AuditKeyring(AuditKey current, IEnumerable<AuditKey> retired)
    {
        Current = current;
        All = [current, .. retired.Where(k => k.Id != current.Id).DistinctBy(k => k.Id)];
    }

    public AuditKey Current { get; }

    public IReadOnlyList<AuditKey> All { get; }

    /// <summary>Where the current key came from, for the start-up log ("generated", "file …", "configuration").</summary>
    public string Source { get; private init; } = "";

    /// <summary>True when the current key was made at this start (Development and the tests only).</summary>
    public bool Generated { get; private init; }

    public AuditKey? Find(string id) => All.FirstOrDefault(k => k.Id == id);

    public static string IdOf(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(SHA256.HashData(key)[..8]);

    /// <summary>A random key held in memory only: for measuring, and for a service whose audit is off.</summary>
    public static AuditKeyring Ephemeral() => new(new AuditKey(RandomNumberGenerator.GetBytes(32)), []) { Source = "ephemeral" };

    /// <summary>Reads the keys the settings name. With <paramref name="mayGenerate"/> (Development and the tests) a
    /// missing key file is created with a fresh random key when <paramref name="generate"/> is set; otherwise a missing
    /// key is an error, said in a sentence.</summary>
    public static (AuditKeyring? Keyring, IReadOnlyList<string> Errors, bool Generated) Load(AuditOptions options, bool mayGenerate, bool generate)
    {
        var errors = new List<string>();
        var retired = new List<AuditKey>();
        foreach (var (id, text) in options.ChainKeys)
        {
            if (Parse(text) is not { } secret)
            {
                errors.Add($"CdsMitral:Audit:ChainKeys:{id} is not a base64 key of at least {MinimumKeyBytes} bytes.");
            }
            else if (IdOf(secret) != id)
            {
                errors.Add($"CdsMitral:Audit:ChainKeys:{id} holds the key whose id is {IdOf(secret)}: list it under that id.");
            }
            else
            {
                retired.Add(new AuditKey(secret));
            }
        }
        AuditKey? current = null;
        var source = "";
        var generated = false;
        if (!string.IsNullOrWhiteSpace(options.ChainKey))
        {
            if (!string.IsNullOrWhiteSpace(options.ChainKeyFile))
            {
                errors.Add("CdsMitral:Audit:ChainKey and CdsMitral:Audit:ChainKeyFile are both set: give one.");
            }
            if (Parse(options.ChainKey) is { } secret)
            {
                (current, source) = (new AuditKey(secret), "configuration (CdsMitral:Audit:ChainKey)");
            }
            else
            {
                errors.Add($"CdsMitral:Audit:ChainKey is not a base64 key of at least {MinimumKeyBytes} bytes (make one with `openssl rand -base64 32`).");
            }
        }
        else
        {
            var file = options.ChainKeyFilePath;
            if (File.Exists(file))
            {
                var keys = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
                var parsed = keys.Select(Parse).ToList();
                if (parsed.Count == 0 || parsed.Any(k => k is null))
                {
                    errors.Add($"The chain key file {file} must hold base64 keys of at least {MinimumKeyBytes} bytes, one a line, the current one first.");
                }
                else
                {
                    (current, source) = (new AuditKey(parsed[0]!), $"file {file}");
                    retired.AddRange(parsed.Skip(1).Select(k => new AuditKey(k!)));
                }
            }
            else if (!mayGenerate)
            {
                errors.Add(string.IsNullOrWhiteSpace(options.ChainKeyFile)
                    ? "The audit chain needs a key outside Development: set CdsMitral:Audit:ChainKey (base64, e.g. from `openssl rand -base64 32`) or CdsMitral:Audit:ChainKeyFile. " +
                      "Without one, whoever can write the audit database could rewrite the trail unnoticed (see docs/audit.md)."
                    : $"CdsMitral:Audit:ChainKeyFile '{options.ChainKeyFile}' does not exist (looked for {file}).");
            }
            else if (generate)
            {
                current = new AuditKey(Generate(file));
                (source, generated) = ($"file {file}", true);
            }
        }
        if (errors.Count > 0 || current is null)
        {
            return (null, errors, false);
        }
        return (new AuditKeyring(current, retired) { Source = source, Generated = generated }, errors, generated);
    }

    private static byte[]? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var length) && length >= MinimumKeyBytes ? buffer[..length] : null;
    }

    /// <summary>Writes a fresh key where only its owner can read it. Written aside and moved into place, so that two
    /// services starting together on one folder end up with the same key, never half of one.</summary>
    private static byte[] Generate(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var key = RandomNumberGenerator.GetBytes(32);
        var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, create))
        {
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temporary, file, overwrite: false);
            return key;
        }
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(temporary);
            return Parse(File.ReadLines(file).First(l => l.Trim().Length > 0)) ?? throw new InvalidOperationException($"The chain key file {file} is not valid.");
        }
    }
}
