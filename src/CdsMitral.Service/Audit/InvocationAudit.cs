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
public sealed class InvocationAudit(AuditWriter writer, IHttpContextAccessor? accessor = null)
{
    /// <summary>Set on a request once its record is written, so the catch-all for refusals does not write a second.</summary>
    public const string RecordedItem = "cdsmitral.audit.recorded";

    /// <summary>How much of an attacker-chosen reason a refusal record keeps.</summary>
    public const int MaxRefusalReason = 200;

    public static readonly string ServiceVersion =
        typeof(InvocationAudit).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public Task RecordAsync(InvocationDraft draft, CallingClient client, int status, string? reason, double totalMs)
    {
        if (accessor?.HttpContext is { } http)
        {
            http.Items[RecordedItem] = true;
        }
        // With the audit off (a measuring option) no record is built: its JSON was a tenth of such a call's CPU.
        return writer.Enabled ? writer.WriteAsync(Entry(draft, client, status, reason, totalMs)) : Task.CompletedTask;
    }

    /// <summary>A call refused before the hook handler read it (authentication, rate limit, no such route): a compact
    /// record — the service id or a shortened path, a bounded reason, nothing from the body — so refusals cannot fill the disk.</summary>
    public Task RecordRefusalAsync(string serviceOrPath, CallingClient client, int status, string reason, DateTimeOffset at) =>
        RecordAsync(new InvocationDraft(serviceOrPath, at), client, status, Shorten(reason, MaxRefusalReason), 0);

    /// <summary>At most <paramref name="max"/> characters, never splitting a surrogate pair.</summary>
    public static string Shorten(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        var cut = char.IsHighSurrogate(text[max - 2]) ? max - 2 : max - 1;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

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
        // Straight to UTF-8 (pooled while written, one exact array kept): the bytes the chain signs and the store binds
        // as TEXT. The string Serialize made was twice as large, and signing and binding each encoded it again.
        var document = JsonSerializer.SerializeToUtf8Bytes(record, AuditJson.Default.InvocationRecord);
        // Time-ordered ids (UUIDv7): the store's indexes on them grow at one end instead of touching a random page per record.
        return new AuditEntry(Guid.CreateVersion7(), EventKind.Hook, draft.At, document, record);
    }
}
