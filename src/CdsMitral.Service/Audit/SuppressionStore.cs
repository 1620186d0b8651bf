using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CdsMitral.Fhir;

namespace CdsMitral.Service.Audit;

/// <summary>A card standing back: this rule, for this patient (of this client), while its inputs keep this fingerprint,
/// until <paramref name="Until"/>, because of this feedback.</summary>
public sealed record Suppression(
    string DedupeKey,
    string FeedbackEventId,
    string InvocationEventId,
    string CardUuid,
    string ClientIssuer,
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
    string? PatientId, string? UserId, IndexClientView? Client, IReadOnlyList<SuppressionRuleView>? Rules, IReadOnlyList<IndexCardView>? Cards);

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

/// <summary>The suppressions table (migration 004): written after a feedback event is durable, read by every hook call
/// that has cards, in whichever instance it runs.</summary>
public sealed class SuppressionStore(AuditDatabase db)
{
    private const string Columns = "dedupe_key, feedback_event_id, invocation_event_id, card_uuid, client_issuer, patient_id, rule_id, rule_version, "
        + "fingerprint, outcome, reason_system, reason_code, reason_display, user_id, at, until_at";

    public async Task AddAsync(Suppression s, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        // What has run out stands nothing back any more: the table holds only suppressions in force (and no patient ids beyond them).
        await AuditDatabase.Execute(connection, null, "DELETE FROM suppressions WHERE until_at <= @now", cancellationToken, ("now", AuditStore.Timestamp(s.At)));
        await AuditDatabase.Execute(connection, null,
            $"INSERT INTO suppressions ({Columns}) VALUES (@k, @f, @i, @c, @iss, @p, @r, @v, @fp, @o, @rs, @rc, @rd, @u, @at, @until) ON CONFLICT (dedupe_key) DO NOTHING",
            cancellationToken,
            ("k", s.DedupeKey), ("f", s.FeedbackEventId), ("i", s.InvocationEventId), ("c", s.CardUuid), ("iss", s.ClientIssuer), ("p", s.PatientId),
            ("r", s.RuleId), ("v", s.RuleVersion), ("fp", s.Fingerprint), ("o", s.Outcome), ("rs", s.Reason?.System), ("rc", s.Reason?.Code),
            ("rd", s.Reason?.Display), ("u", s.UserId), ("at", AuditStore.Timestamp(s.At)), ("until", AuditStore.Timestamp(s.Until)));
    }

    /// <summary>The suppressions in force at <paramref name="now"/> for these rules of this patient, newest first.</summary>
    public async Task<IReadOnlyList<Suppression>> InForceAsync(string clientIssuer, string patientId, IReadOnlyCollection<string> ruleIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ruleIds.Count == 0)
        {
            return [];
        }
        var rules = ruleIds.Select((r, n) => ($"r{n}", (object?)r)).ToArray();
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            $"SELECT {Columns} FROM suppressions WHERE patient_id = @p AND client_issuer = @iss AND until_at > @now AND rule_id IN ({string.Join(",", rules.Select(r => "@" + r.Item1))}) ORDER BY at DESC",
            [("p", patientId), ("iss", clientIssuer), ("now", AuditStore.Timestamp(now)), .. rules]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new List<Suppression>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(Read(reader));
        }
        return found;
    }

    private static Suppression Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTimeOffset Time(int i) => DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var reason = Text(11) is { } code ? new Coding(Text(10) ?? "", code, Text(12)) : null;
        return new Suppression(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.GetString(7), r.GetString(8), r.GetString(9), reason, Text(13), Time(14), Time(15));
    }

    public static SuppressionInvocationView? ReadInvocation(string document)
    {
        try
        {
            return JsonSerializer.Deserialize(document, SuppressionJson.Default.SuppressionInvocationView);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
