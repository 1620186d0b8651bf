using System.Text.Json.Serialization;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Fhir;
using CdsMitral.Snapshot;

namespace CdsMitral.Service.Audit;

/// <summary>Who called, as the audit keeps it: the JWT's iss, jti and tenant — never the token.</summary>
public sealed record AuditClient(string? Issuer, string? Name, string? Jti, string? Tenant, bool Verified);

public sealed record StageTimings(double ParseMs, double GatherMs, double EvaluateMs, double TotalMs);

/// <summary>One hook invocation, accepted or refused, with everything an auditor needs to answer "who was shown
/// which card, for which patient, on what evidence" months later.</summary>
public sealed record InvocationRecord(
    DateTimeOffset At,
    string ServiceId,
    string? Hook,
    string? HookInstance,
    AuditClient Client,
    string? FhirServer,
    string? PatientId,
    string? UserId,
    string? EncounterId,
    int Status,
    string? Reason,
    IReadOnlyList<KeyReport>? Prefetch,
    IReadOnlyList<FhirQuery>? Queries,
    ClinicalSnapshot? Snapshot,
    IReadOnlyList<RuleOutcome>? Rules,
    IReadOnlyList<Card>? Cards,
    StageTimings? Timings,
    string ServiceVersion,
    string RuleSetVersion);

/// <summary>One feedback item as received (CDS Hooks 2.0 §Feedback), tied to the card's invocation when the card is known.</summary>
public sealed record FeedbackRecord(
    DateTimeOffset At,
    string ServiceId,
    AuditClient Client,
    string Card,
    string Outcome,
    IReadOnlyList<string>? AcceptedSuggestions,
    Coding? OverrideReason,
    string? UserComment,
    string OutcomeTimestamp,
    string? InvocationId,
    bool KnownCard,
    string DedupeKey);

/// <summary>Retention at work, recorded in the chain itself: what went, the hash the remaining chain now starts from,
/// and the archive that holds what went with its SHA-256 (null in purges made before retention archived).</summary>
public sealed record PurgeRecord(DateTimeOffset At, DateTimeOffset OlderThan, long EventsRemoved, long FirstRemainingSeq, string Anchor,
    string? Archive = null, string? ArchiveSha256 = null);

public static class EventKind
{
    public const string Hook = "hook";
    public const string Feedback = "feedback";
    public const string Purge = "purge";
}

/// <summary>What the writer is asked to make durable: a kind, an id, a time and the document (JSON) — and, for
/// feedback, the key that makes a second delivery of the same item a no-op. The document is held as text or as its
/// UTF-8 (a hook's record is serialised straight to UTF-8, which the chain signs and the store binds as TEXT); the
/// other form is made when first asked for.</summary>
public sealed record AuditEntry
{
    private string? _document;
    private byte[]? _utf8;

    [JsonConstructor]
    public AuditEntry(Guid Id, string Kind, DateTimeOffset At, string Document, InvocationRecord? Invocation = null, FeedbackRecord? Feedback = null)
        : this(Id, Kind, At, Invocation, Feedback) => _document = Document;

    /// <param name="Utf8Document">The document's UTF-8, valid, and the entry's from now on (not written to after).</param>
    public AuditEntry(Guid Id, string Kind, DateTimeOffset At, byte[] Utf8Document, InvocationRecord? Invocation = null, FeedbackRecord? Feedback = null)
        : this(Id, Kind, At, Invocation, Feedback) => _utf8 = Utf8Document;

    private AuditEntry(Guid id, string kind, DateTimeOffset at, InvocationRecord? invocation, FeedbackRecord? feedback) =>
        (Id, Kind, At, Invocation, Feedback) = (id, kind, at, invocation, feedback);

    public Guid Id { get; init; }

    public string Kind { get; init; }

    public DateTimeOffset At { get; init; }

    /// <summary>The document as text: for the spool and the rare readers; a hook's is decoded from its UTF-8 on first use.</summary>
    public string Document
    {
        get => _document ??= System.Text.Encoding.UTF8.GetString(_utf8!);
        init => (_document, _utf8) = (value, null);
    }

    public InvocationRecord? Invocation { get; init; }

    public FeedbackRecord? Feedback { get; init; }

    /// <summary>The document's UTF-8, exactly the bytes hashed and stored. Not to be written to.</summary>
    internal byte[] Utf8Document => _utf8 ??= System.Text.Encoding.UTF8.GetBytes(_document!);

    // By content, whichever form the document is held in.
    public bool Equals(AuditEntry? other) =>
        other is not null && Id == other.Id && Kind == other.Kind && At == other.At && Invocation == other.Invocation && Feedback == other.Feedback
        && (_utf8 is not null && other._utf8 is not null ? _utf8.AsSpan().SequenceEqual(other._utf8) : Document == other.Document);

    public override int GetHashCode() => HashCode.Combine(Id, Kind, At);
}

/// <summary>What a walk of the chain found. <paramref name="LegacyEvents"/> were written before the chain was keyed
/// (plain SHA-256, which anyone who can write the database can recompute); <paramref name="KeyIds"/> are the keys that
/// signed the rest; <paramref name="Checkpoint"/> is the newest checkpoint the chain was compared with;
/// <paramref name="Note"/> says all that in a sentence for the pages.</summary>
public sealed record ChainReport(
    bool Intact,
    long Events,
    long? FirstBrokenSeq,
    string? Problem,
    DateTimeOffset CheckedAt,
    long LegacyEvents = 0,
    IReadOnlyList<string>? KeyIds = null,
    AuditCheckpoint? Checkpoint = null,
    string? Note = null,
    long EventsRead = 0,
    DateTimeOffset? LastFullWalk = null);

/// <summary>The part of a hook event's document the index rows are derived from: read back to check them.</summary>
public sealed record InvocationIndexView(
    string? ServiceId, string? Hook, string? HookInstance, IndexClientView? Client, string? PatientId, string? UserId, int Status, IReadOnlyList<IndexCardView>? Cards);

public sealed record IndexClientView(string? Issuer, string? Tenant = null);

public sealed record IndexCardView(string? Uuid, string? Indicator, IndexSourceView? Source);

public sealed record IndexSourceView(IndexTopicView? Topic);

public sealed record IndexTopicView(string? Code);

/// <summary>The part of a feedback event's document its index row is derived from.</summary>
public sealed record FeedbackIndexView(string? Card, string? Outcome, string? InvocationId, bool KnownCard, string? DedupeKey);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(InvocationRecord))]
[JsonSerializable(typeof(FeedbackRecord))]
[JsonSerializable(typeof(PurgeRecord))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(ChainReport))]
[JsonSerializable(typeof(List<AuditEntry>))]
[JsonSerializable(typeof(AuditCheckpoint))]
[JsonSerializable(typeof(ArchiveSealLine))]
[JsonSerializable(typeof(ArchiveSeal))]
[JsonSerializable(typeof(ArchivesReport))]
[JsonSerializable(typeof(InvocationIndexView))]
[JsonSerializable(typeof(FeedbackIndexView))]
public sealed partial class AuditJson : JsonSerializerContext;
