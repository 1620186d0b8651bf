namespace CdsMitral.Service.Audit;

// What the audit store takes and gives: a list's filter, a listed call, a stored event, a point of the chain.

public sealed record AuditFilter(
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Service = null, string? Patient = null, string? User = null,
    string? Rule = null, string? Indicator = null, string? Feedback = null, int? Status = null, string? Card = null);

public sealed record InvocationRow(
    string EventId, DateTimeOffset At, string ServiceId, string? Hook, string? HookInstance, string? PatientId, string? UserId,
    string? ClientIssuer, int Status, IReadOnlyList<string> RuleIds, IReadOnlyList<string> Indicators, IReadOnlyList<string> FeedbackOutcomes,
    string? Problem = null);

/// <summary>An event as stored. <paramref name="KeyId"/> names the chain key whose HMAC is its hash; null for an event
/// written before the chain was keyed (plain SHA-256).</summary>
public sealed record StoredEvent(long Seq, string Id, string Kind, DateTimeOffset At, string Document, string PrevHash, string Hash, string? KeyId = null)
{
    /// <summary>The time exactly as stored and hashed.</summary>
    public string AtText { get; init; } = AuditStore.Timestamp(At);

    /// <summary>Set where an event is read for display: why its hash does not vouch for it (null when it does).</summary>
    public string? Problem { get; init; }
}

/// <summary>A point of the chain: an event's sequence number and hash.</summary>
public sealed record ChainPosition(long Seq, string Hash);
