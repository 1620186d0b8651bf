using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Trust;

namespace CdsMitral.Service.Feedback;

/// <summary>CDS Hooks 2.0 §Feedback: what the clinician did with a card. Validated as a whole, stored once per item
/// however often it is sent, tied to the card's invocation; feedback on a card that is not on record is kept and flagged.</summary>
public static class FeedbackEndpoints
{
    public static RouteGroupBuilder MapFeedback(this RouteGroupBuilder services)
    {
        services.MapPost("/{id}/feedback", async (string id, HttpContext http, CdsServiceRegistry registry, AuditStore store, AuditWriter writer,
            StandBack standBack, TimeProvider time, Microsoft.Extensions.Options.IOptions<CdsMitralOptions> options) =>
        {
            if (registry.Find(id) is null)
            {
                return OperationOutcomes.Error(404, "not-found", $"There is no CDS service '{id}'.");
            }
            // The same gate as hook requests: media type, size, UTF-8 and escapes are refused alike on both.
            var (body, refusal) = await JsonBodies.ReadAsync(http.Request, options.Value.MaxRequestBodyBytes, "CDS Hooks feedback");
            if (refusal is not null)
            {
                return refusal.ToResult();
            }
            var (items, problems) = Parse(body);
            if (problems.Count > 0)
            {
                return OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems));
            }
            var client = http.CallingClient();
            var auditClient = new AuditClient(client.Issuer, client.Name, client.Jti, client.Tenant, client.Verified);
            var writes = new List<Task>();
            var written = new List<(FeedbackRecord Record, Guid EventId)>();
            foreach (var item in items)
            {
                var key = DedupeKey(id, item);
                // The cheap check spares the chain an event; the store checks again inside its transaction.
                if (writer.Enabled && await store.HasFeedbackAsync(key, http.RequestAborted))
                {
                    continue;
                }
                var invocation = writer.Enabled ? await store.FindCardInvocationAsync(item.Card, http.RequestAborted) : null;
                var record = item with { At = time.GetUtcNow(), ServiceId = id, Client = auditClient, InvocationId = invocation, KnownCard = invocation is not null, DedupeKey = key };
                var eventId = Guid.CreateVersion7();
                written.Add((record, eventId));
                writes.Add(writer.WriteAsync(new AuditEntry(eventId, EventKind.Feedback, record.At,
                    JsonSerializer.Serialize(record, AuditJson.Default.FeedbackRecord), Feedback: record)));
            }
            try
            {
                await Task.WhenAll(writes);
            }
            catch (InvalidOperationException)
            {
                return OperationOutcomes.Error(503, "transient", "The audit trail is unavailable; the feedback was not kept. Retry later.");
            }
            // Once the feedback is durable, what it stands back (an item delivered twice stands back once).
            foreach (var (record, eventId) in written)
            {
                await standBack.RememberAsync(record, eventId, http.RequestAborted);
            }
            return Results.Ok();
        });
        return services;
    }

    private static string DedupeKey(string serviceId, FeedbackRecord f) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n",
            serviceId, f.Card, f.Outcome, f.OutcomeTimestamp, string.Join(",", (f.AcceptedSuggestions ?? []).Order(StringComparer.Ordinal)),
            f.OverrideReason?.System, f.OverrideReason?.Code, f.UserComment))));

    private static (List<FeedbackRecord> Items, List<ValidationProblem> Problems) Parse(ReadOnlyMemory<byte> body)
    {
        var items = new List<FeedbackRecord>();
        var problems = new List<ValidationProblem>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            // A refused duplicate key comes without a line: find it, so the sender is told where.
            return e.LineNumber is { } line
                ? ([], [new("$", $"The body is not valid JSON (near line {line + 1}).")])
                : JsonText.FindDuplicateKey(body.Span) is { } duplicate
                    ? ([], [new(duplicate.Path, $"The body is not valid JSON: the member {duplicate.Path} (line {duplicate.Line}) appears twice in its object.")])
                    : ([], [new("$", "The body is not valid JSON.")]);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("feedback", out var list)
                || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                return ([], [new("feedback", "The body must be an object with a non-empty 'feedback' array.")]);
            }
            var i = 0;
            foreach (var item in list.EnumerateArray())
            {
                var at = $"feedback[{i++}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    problems.Add(new(at, $"{at} must be an object."));
                    continue;
                }
                var card = Text(item, "card");
                var outcome = Text(item, "outcome");
                var timestamp = Text(item, "outcomeTimestamp");
                if (card is null)
                {
                    problems.Add(new($"{at}.card", $"{at}.card is required: the uuid of the card."));
                }
                if (outcome is not ("accepted" or "overridden"))
                {
                    problems.Add(new($"{at}.outcome", $"{at}.outcome must be 'accepted' or 'overridden'."));
                }
                if (timestamp is null || !DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                {
                    problems.Add(new($"{at}.outcomeTimestamp", $"{at}.outcomeTimestamp is required: an ISO 8601 date-time."));
                }
                var accepted = new List<string>();
                if (item.TryGetProperty("acceptedSuggestions", out var suggestions))
                {
                    if (suggestions.ValueKind != JsonValueKind.Array || suggestions.EnumerateArray().Any(s => Text(s, "id") is null))
                    {
                        problems.Add(new($"{at}.acceptedSuggestions", $"{at}.acceptedSuggestions must be an array of objects with an 'id'."));
                    }
                    else
                    {
                        accepted.AddRange(suggestions.EnumerateArray().Select(s => Text(s, "id")!));
                    }
                }
                if (outcome == "accepted" && accepted.Count == 0)
                {
                    problems.Add(new($"{at}.acceptedSuggestions", $"{at}: an accepted outcome needs acceptedSuggestions (CDS Hooks cds-fb-2)."));
                }
                Coding? reason = null;
                string? comment = null;
                if (item.TryGetProperty("overrideReason", out var overrideReason))
                {
                    comment = Text(overrideReason, "userComment");
                    if (overrideReason.ValueKind == JsonValueKind.Object && overrideReason.TryGetProperty("reason", out var r))
                    {
                        reason = Text(r, "code") is { } code && Text(r, "system") is { } system ? new Coding(system, code, Text(r, "display")) : null;
                        if (reason is null)
                        {
                            problems.Add(new($"{at}.overrideReason.reason", $"{at}.overrideReason.reason must be a Coding with code and system."));
                        }
                    }
                    else if (comment is null)
                    {
                        problems.Add(new($"{at}.overrideReason", $"{at}.overrideReason needs a reason or a userComment (CDS Hooks cds-fb-3)."));
                    }
                }
                if (problems.Count == 0)
                {
                    items.Add(new FeedbackRecord(default, "", new AuditClient(null, null, null, null, false), card!, outcome!,
                        accepted.Count == 0 ? null : accepted, reason, comment, timestamp!, null, false, ""));
                }
            }
        }
        return (items, problems);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } text ? text : null;
}
