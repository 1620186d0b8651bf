using System.Text.Json;
using System.Text.Json.Serialization;
using CdsMitral.Navigator;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Trust;

namespace CdsMitral.Service.Navigator;

/// <summary>What the audit keeps of a Navigator result: who, which patient, the answers as attested, the result, which
/// card opened the session, and whether write-back is possible. Never the token.</summary>
public sealed record NavigatorAuditRecord(string Session, DateTimeOffset At, string User, string Patient, string FhirServer, string Result,
    IReadOnlyList<AttestedAnswer> Answers, string? Encounter, LaunchOrigin? LaunchedFrom, WriteBackOutcome WriteBack, string Access);

/// <summary>What the audit keeps of a write-back: which session's result was sent, and what the FHIR server made of it
/// (the ids it created, or its refusal). The answers are in that session's result event.</summary>
public sealed record NavigatorWriteBackRecord(string Session, DateTimeOffset At, string User, string Patient, string FhirServer, string SavedResult,
    LaunchOrigin? LaunchedFrom, WriteBackOutcome WriteBack, string Wrote);

[JsonSerializable(typeof(NavigatorAuditRecord))]
[JsonSerializable(typeof(NavigatorWriteBackRecord))]
internal sealed partial class NavigatorJson : JsonSerializerContext;

/// <summary>The Navigator's audit events: one per result shown for a set of answers, one per write-back attempt.</summary>
public static partial class NavigatorEndpoints
{
    /// <summary>One audit event per result: written when a result is first shown (or saved) for these answers.</summary>
    private static async Task<bool> Audit(NavigatorSession session, PathwayView view, AuditWriter audit, TimeProvider time)
    {
        if (session.Audited == (session.Answers, view.Result))
        {
            return false;
        }
        var at = time.GetUtcNow();
        var writeBack = session.OpenServer ? new WriteBackOutcome(WriteBackOutcome.OpenServer)
            : session.MayWriteBack ? new WriteBackOutcome(WriteBackOutcome.Offered) : new WriteBackOutcome(WriteBackOutcome.NotGranted);
        var record = new NavigatorAuditRecord(session.Id.ToString(), at, session.User, session.PatientId, FhirServerPolicy.Redact(session.Iss)!,
            NavigatorPathway.CodeOf(view.Result), view.Attested, session.Encounter, session.From, writeBack,
            session.OpenServer ? OpenServerAccess : "SMART EHR launch");
        await audit.WriteAsync(new AuditEntry(Guid.CreateVersion7(), AuditKind, at, JsonSerializer.Serialize(record, NavigatorJson.Default.NavigatorAuditRecord)));
        session.Audited = (session.Answers, view.Result);
        return true;
    }

    /// <summary>One audit event per write-back attempt, beside the result's: what the EHR made of it.</summary>
    private static async Task AuditWriteBack(NavigatorSession session, PathwayView view, WriteBackOutcome outcome, bool proposed, AuditWriter audit, TimeProvider time)
    {
        var at = time.GetUtcNow();
        var record = new NavigatorWriteBackRecord(session.Id.ToString(), at, session.User, session.PatientId, FhirServerPolicy.Redact(session.Iss)!,
            NavigatorPathway.CodeOf(view.Result), session.From, outcome, proposed ? "QuestionnaireResponse, ServiceRequest (draft)" : "QuestionnaireResponse");
        await audit.WriteAsync(new AuditEntry(Guid.CreateVersion7(), AuditKind, at, JsonSerializer.Serialize(record, NavigatorJson.Default.NavigatorWriteBackRecord)));
    }
}
