namespace CdsMitral.Service.Audit;

/// <summary>What the hook, feedback and Navigator paths look up: the call that showed a card, the latest card shown to
/// a patient, whether a feedback item is on record.</summary>
public sealed partial class AuditStore
{
    /// <summary>The hook call that showed a card, and the service it was shown by; null for a card not on record.</summary>
    public async Task<(string EventId, string ServiceId)?> FindCardAsync(string cardUuid, CancellationToken cancellationToken)
    {
        await IndexCurrent(cancellationToken);
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = AuditDatabase.Command(connection, null,
            "SELECT c.event_id, i.service_id FROM cards c JOIN invocations i ON i.event_id = c.event_id WHERE c.card_uuid = @u", ("u", cardUuid));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <summary>The most recent card of one of <paramref name="rules"/> shown to a patient since a time, by one of the
    /// <paramref name="clients"/> (a null among them: an unverified caller): what opened a Navigator session whose EHR relayed
    /// no appContext, as far as the record can tell.</summary>
    public async Task<(string Card, string Rule, string? Hook, DateTimeOffset At)?> LatestCardAsync(string patient, IReadOnlyList<string?> clients,
        IReadOnlyCollection<string> rules, DateTimeOffset since, CancellationToken cancellationToken)
    {
        if (clients.Count == 0 || rules.Count == 0)
        {
            return null;
        }
        await IndexCurrent(cancellationToken);
        await using var connection = await db.OpenAsync(cancellationToken);
        var parameters = new List<(string, object?)> { ("pat", patient), ("since", Timestamp(since)) };
        var ruleNames = rules.Select((r, i) => { parameters.Add(($"r{i}", r)); return $"@r{i}"; }).ToList();
        var issuers = clients.OfType<string>().Select((c, i) => { parameters.Add(($"c{i}", c)); return $"@c{i}"; }).ToList();
        var byClient = string.Join(" OR ", new[]
        {
            issuers.Count > 0 ? $"i.client_issuer IN ({string.Join(",", issuers)})" : null,
            clients.Contains(null) ? "i.client_issuer IS NULL" : null,
        }.OfType<string>());
        await using var command = AuditDatabase.Command(connection, null,
            "SELECT c.card_uuid, c.rule_id, i.hook, i.at FROM cards c JOIN invocations i ON i.event_id = c.event_id " +
            $"WHERE i.patient_id = @pat AND i.status = 200 AND i.at >= @since AND c.rule_id IN ({string.Join(",", ruleNames)}) AND ({byClient}) " +
            "ORDER BY i.at DESC, c.card_uuid LIMIT 1", [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), ReadTimestamp(reader.GetString(3)))
            : null;
    }

    public async Task<bool> HasFeedbackAsync(string dedupeKey, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await Exists(connection, null, "SELECT 1 FROM feedback WHERE dedupe_key = @k", cancellationToken, ("k", dedupeKey));
    }
}
