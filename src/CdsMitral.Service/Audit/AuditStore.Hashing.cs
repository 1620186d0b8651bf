using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CdsMitral.Service.Audit;

/// <summary>An event's hash: the legacy SHA-256 of events written before the chain was keyed, and whether an event's
/// hash (the HMAC of the key it names) vouches for it.</summary>
public sealed partial class AuditStore
{
    /// <summary>The legacy, unkeyed hash of events written before the chain was keyed: SHA-256 over the UTF-8 of
    /// "prev\nseq\nid\nkind\nat\ndocument". Anyone who can write the database can recompute it; kept to verify old events.</summary>
    public static string Hash(string prevHash, long seq, string id, string kind, string at, string document)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(Math.Max(document.Length, 256)));
        try
        {
            void Add(string part, bool last = false)
            {
                var length = Encoding.UTF8.GetBytes(part, buffer);
                if (!last)
                {
                    buffer[length++] = (byte)'\n';
                }
                sha.AppendData(buffer, 0, length);
            }
            Add(prevHash);
            Add(seq.ToString(CultureInfo.InvariantCulture));
            Add(id);
            Add(kind);
            Add(at);
            Add(document, last: true);
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether an event's hash is what its content and its key make it: null when it is; Legacy for an event
    /// hashed before the chain was keyed.</summary>
    private (string? Problem, bool Legacy) SealProblem(StoredEvent e)
    {
        if (e.KeyId is null)
        {
            return (Hash(e.PrevHash, e.Seq, e.Id, e.Kind, e.AtText, e.Document) == e.Hash ? null : "its content does not match its hash (altered)", true);
        }
        if (keys.Find(e.KeyId) is not { } key)
        {
            return ($"it is signed with chain key {e.KeyId}, which this service does not have (list it under CdsMitral:Audit:ChainKeys)", false);
        }
        return (key.Sign(e.PrevHash, e.Seq, e.Id, e.Kind, e.AtText, e.Document) == e.Hash ? null : "its content does not match its hash (altered)", false);
    }
}
