using System.Text.Json.Serialization;
using CdsMitral.Fhir;

namespace CdsMitral.Service.Audit;

// A stand-back's records: its scope, a suppression in force, its audit event, and the parts of a hook event it is made from.

/// <summary>Where a stand-back holds: the calls of this client (its issuer, '' for an unverified caller), under this tenant,
/// about a patient of this FHIR server ('' where the call named none); a patient id means nothing outside its server.</summary>
public readonly record struct StandBackScope(string Issuer, string Tenant, string FhirServer)
{
    public static StandBackScope Of(string? issuer, string? tenant, string? fhirServer) =>
        new(issuer ?? "", tenant ?? "", fhirServer?.TrimEnd('/') ?? "");
}

/// <summary>A card standing back: this rule, for this patient (in this scope), while its inputs keep this fingerprint,
/// until <paramref name="Until"/>, because of this feedback.</summary>
public sealed record Suppression(
    string DedupeKey,
    string FeedbackEventId,
    string InvocationEventId,
    string CardUuid,
    StandBackScope Scope,
    string PatientId,
    string RuleId,
    string RuleVersion,
    string Fingerprint,
    string Outcome,
    Coding? Reason,
    string? UserId,
    DateTimeOffset At,
    DateTimeOffset Until)
{
    /// <summary>"not shown: overridden on 2026-11-21 by Practitioner/1 for Already evaluated by the Heart Valve Team (already-evaluated-hvt); stands back until 2027-05-20"</summary>
    public string Words =>
        $"not shown: {Outcome} on {At.UtcDateTime:yyyy-MM-dd} by {UserId ?? "an unnamed user"}"
        + (Outcome == "accepted" ? " (a suggestion was accepted)" : $" for {(Reason?.Display is { } d ? $"{d} ({Reason.Code})" : Reason?.Code)}")
        + $"; stands back until {Until.UtcDateTime:yyyy-MM-dd}, or until its inputs change";
}

/// <summary>The audit event of one card left out because of earlier feedback.</summary>
public sealed record SuppressionRecord(
    DateTimeOffset At,
    string ServiceId,
    string? HookInstance,
    string PatientId,
    string? UserId,
    string RuleId,
    string RuleVersion,
    string Fingerprint,
    string Text,
    string Outcome,
    Coding? Reason,
    DateTimeOffset FeedbackAt,
    string? FeedbackBy,
    string FeedbackEventId,
    string InvocationEventId,
    DateTimeOffset Until);

/// <summary>The parts of a hook event's document a suppression is made from.</summary>
public sealed record SuppressionInvocationView(
    string? PatientId, string? UserId, IndexClientView? Client, IReadOnlyList<SuppressionRuleView>? Rules, IReadOnlyList<IndexCardView>? Cards,
    string? FhirServer = null);

public sealed record SuppressionRuleView(string? RuleId, string? Version, bool Fired, string? Fingerprint, string? NotShown);

public static class SuppressionKind
{
    public const string Event = "suppression";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SuppressionRecord))]
[JsonSerializable(typeof(SuppressionInvocationView))]
public sealed partial class SuppressionJson : JsonSerializerContext;
