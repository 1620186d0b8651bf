using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>
/// Reads and writes the audit chain. An append takes the chain lock, gives each event the next sequence number and an
/// HMAC-SHA256 (with the current chain key) over the previous hash and its own content, writes the index rows, and
/// commits — all or nothing; except that the SQLite writer leaves the invocation and card rows to a later, batched
/// transaction (see PendingIndex). What the auditors' pages list is read from the chained documents, not from the index.
/// </summary>
public sealed partial class AuditStore(AuditDatabase db, AuditKeyring keys, AuditCheckpoints? checkpoints = null, AuditArchives? archives = null)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>What became of an entry in an append: written at <see cref="Seq"/>, or a duplicate (Seq 0) skipped.</summary>
    public readonly record struct Appended(long Seq)
    {
        public static Appended Duplicate => default;

        public bool Written => Seq > 0;
    }

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A time as <see cref="Timestamp"/> stored it.</summary>
    public static DateTimeOffset ReadTimestamp(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public AuditKeyring Keys => keys;
}
