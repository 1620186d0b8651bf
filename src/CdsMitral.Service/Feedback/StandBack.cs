using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Service.Audit;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Feedback;

/// <summary>
/// Feedback that counts. A card overridden for a reason that means "already handled", or whose suggestion was accepted,
/// makes the same rule stand back for the same patient while its input fingerprint stays the same, for the time that
/// reason is given (FatigueOptions). The suppression is made from the chained record of the call that showed the card,
/// and kept in the audit store so that every instance honours it. When the store cannot be read the cards are shown.
/// </summary>
public sealed class StandBack(
    SuppressionStore suppressions,
    AuditStore store,
    AuditWriter writer,
    Terminology.Terminology terminology,
    IOptions<FatigueOptions> options,
    ILogger<StandBack> logger)
{
    public int MaxCardsPerAnswer => options.Value.MaxCardsPerAnswer;

    /// <summary>How long this feedback stands its card back; zero when it does not.</summary>
    public TimeSpan For(FeedbackRecord f)
    {
        if (f.Outcome == "accepted")
        {
            return options.Value.StandBackAfterAccepted;
        }
        // Only a reason the service itself offers counts, in the code system it offers it in.
        return f.Outcome == "overridden" && f.OverrideReason is { Code: { } code } reason
            && terminology.Codes(Terminology.Vs.CardOverrideReasons).Any(c => c.Code == code && c.System == reason.System)
            && options.Value.StandBack.TryGetValue(code, out var time)
            ? time
            : TimeSpan.Zero;
    }

    /// <summary>After a feedback event is durable: if it stands its card back, records the suppression.</summary>
    public async Task RememberAsync(FeedbackRecord f, Guid feedbackEventId, CancellationToken cancellationToken)
    {
        var time = For(f);
        if (time <= TimeSpan.Zero || f.InvocationId is not { } invocationId || !writer.Enabled)
        {
            return;
        }
        try
        {
            // The call that showed the card, read from its chained record: an altered record stands nothing back.
            if (await store.GetAsync(invocationId, cancellationToken) is not { } found || found.Invocation.Problem is not null
                || SuppressionStore.ReadInvocation(found.Invocation.Document) is not { PatientId: { } patient } shown)
            {
                return;
            }
            // Only the client the card was shown to, under the same tenant, may stand it back; it stands back where it was
            // shown: that client, that tenant, that FHIR server.
            var scope = StandBackScope.Of(shown.Client?.Issuer, shown.Client?.Tenant, shown.FhirServer);
            if (scope.Issuer != (f.Client.Issuer ?? "") || scope.Tenant != (f.Client.Tenant ?? ""))
            {
                return;
            }
            var rule = shown.Cards?.FirstOrDefault(c => c.Uuid == f.Card)?.Source?.Topic?.Code;
            if (shown.Rules?.FirstOrDefault(r => r.RuleId == rule && r.Fired) is not { Fingerprint: { } fingerprint, RuleId: { } ruleId } outcome)
            {
                return;
            }
            await suppressions.AddAsync(new Suppression(f.DedupeKey, feedbackEventId.ToString(), invocationId, f.Card, scope, patient,
                ruleId, outcome.Version ?? "", fingerprint, f.Outcome,
                f.OverrideReason is { } r ? r with { Display = r.Display ?? terminology.Display(Terminology.Vs.CardOverrideReasons, r) } : null, shown.UserId, f.At, f.At + time), cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            FeedbackLog.NotRemembered(logger, e.GetType().Name, e.Message);
        }
    }

    /// <summary>Which of this answer's cards stand back, each with its reason in words, and the audit event of each.</summary>
    public async Task<(IReadOnlyDictionary<string, string> NotShown, IReadOnlyList<AuditEntry> Events)> CheckAsync(
        string serviceId, string? hookInstance, HookContext context, StandBackScope scope, HookOutcome answer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var fired = answer.Evaluation.Outcomes.Where(o => o.Fired && o.Fingerprint is not null && answer.Cards.Any(c => HookEvaluation.RuleOf(c) == o.RuleId)).ToList();
        if (fired.Count == 0 || context.PatientId is not { } patient || !writer.Enabled)
        {
            return (new Dictionary<string, string>(), []);
        }
        IReadOnlyList<Suppression> inForce;
        try
        {
            inForce = await suppressions.InForceAsync(scope, patient, fired.Select(o => o.RuleId).ToList(), now, cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // Fail towards the clinician: without the store, the cards are shown.
            FeedbackLog.NotChecked(logger, e.GetType().Name, e.Message);
            return (new Dictionary<string, string>(), []);
        }
        var notShown = new Dictionary<string, string>(StringComparer.Ordinal);
        var events = new List<AuditEntry>();
        foreach (var o in fired)
        {
            if (inForce.FirstOrDefault(s => s.RuleId == o.RuleId && s.Fingerprint == o.Fingerprint) is not { } s)
            {
                continue;
            }
            notShown[o.RuleId] = s.Words;
            var record = new SuppressionRecord(now, serviceId, hookInstance, patient, context.UserId, o.RuleId, o.Version, o.Fingerprint!, s.Words,
                s.Outcome, s.Reason, s.At, s.UserId, s.FeedbackEventId, s.InvocationEventId, s.Until);
            events.Add(new AuditEntry(Guid.CreateVersion7(), SuppressionKind.Event, now, JsonSerializer.Serialize(record, SuppressionJson.Default.SuppressionRecord)));
        }
        return (notShown, events);
    }
}

internal static partial class FeedbackLog
{
    [LoggerMessage(140, LogLevel.Error, "Feedback kept, but its stand-back could not be recorded ({Type:l}: {Message:l}); the card will be shown again")]
    public static partial void NotRemembered(ILogger logger, string type, string message);

    [LoggerMessage(141, LogLevel.Error, "Stand-backs could not be read ({Type:l}: {Message:l}); every card is shown")]
    public static partial void NotChecked(ILogger logger, string type, string message);
}
