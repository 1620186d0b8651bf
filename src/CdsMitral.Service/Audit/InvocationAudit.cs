using System.Reflection;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Trust;
using CdsMitral.Snapshot;

namespace CdsMitral.Service.Audit;

/// <summary>What the hook handler knows so far about one call; every exit turns it into an audit record.</summary>
public sealed class InvocationDraft(string serviceId, DateTimeOffset at)
{
    public string ServiceId { get; } = serviceId;
    public DateTimeOffset At { get; } = at;
    public HookRequest? Request { get; set; }
    public HookContext? Context { get; set; }
    public Gathered? Gathered { get; set; }
    public ClinicalSnapshot? Snapshot { get; set; }
    public Evaluation? Evaluation { get; set; }
    public IReadOnlyList<Card>? Cards { get; set; }
    public double ParseMs { get; set; }
    public double GatherMs { get; set; }
    public double EvaluateMs { get; set; }
}

/// <summary>Builds the audit record of a hook call and waits until it is durable.</summary>
public sealed class InvocationAudit(AuditWriter writer)
{
    public static readonly string ServiceVersion =
        typeof(InvocationAudit).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public Task RecordAsync(InvocationDraft draft, CallingClient client, int status, string? reason, double totalMs) =>
        writer.WriteAsync(Entry(draft, client, status, reason, totalMs));

    /// <summary>The audit entry of a call: its record, and the record as the JSON document the chain hashes and keeps.</summary>
    public static AuditEntry Entry(InvocationDraft draft, CallingClient client, int status, string? reason, double totalMs)
    {
        var record = new InvocationRecord(
            draft.At,
            draft.ServiceId,
            draft.Request?.Hook,
            draft.Request?.HookInstance,
            new AuditClient(client.Issuer, client.Name, client.Jti, client.Tenant, client.Verified),
            Trust.FhirServerPolicy.Redact(draft.Request?.FhirServer),
            draft.Context?.PatientId,
            draft.Context?.UserId,
            draft.Context?.EncounterId,
            status,
            reason,
            draft.Gathered?.Keys,
            draft.Gathered?.Queries,
            draft.Snapshot,
            draft.Evaluation?.Outcomes,
            draft.Cards,
            new StageTimings(draft.ParseMs, draft.GatherMs, draft.EvaluateMs, totalMs),
            ServiceVersion,
            SecondaryMrRules.RuleSetVersion);
        var document = JsonSerializer.Serialize(record, AuditJson.Default.InvocationRecord);
        // Time-ordered ids (UUIDv7): the store's indexes on them grow at one end instead of touching a random page per record.
        return new AuditEntry(Guid.CreateVersion7(), EventKind.Hook, draft.At, document, record);
    }
}
