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
            StandBack standBack, TimeProvider time, FeedbackItemBudget budget, RefusalAudit refusals,
            Microsoft.Extensions.Options.IOptions<CdsMitralOptions> options, Microsoft.Extensions.Options.IOptions<FatigueOptions> fatigue) =>
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
            var max = fatigue.Value.MaxFeedbackItems;
            var (items, problems, count) = Parse(body, max);
            if (count > max)
            {
                return OperationOutcomes.Error(413, "too-costly",
                    $"One feedback request may carry at most {max} items (CdsMitral:Fatigue:MaxFeedbackItems); this one carries {count}. Send them in several requests.");
            }
            if (problems.Count > 0)
            {
                return OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems));
            }
            // Every item is an audit event: each counts against the client's budget, as a call does.
            var (taken, retryAfter, partition) = budget.Take(http, items.Count);
            if (!taken)
            {
                http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await refusals.RateLimitedAsync(http, partition);
                return OperationOutcomes.Error(429, "throttled",
                    $"Too many feedback items from this client: {items.Count} would exceed its budget for this window; retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.");
            }
            var client = http.CallingClient();
            var auditClient = new AuditClient(client.Issuer, client.Name, client.Jti, client.Tenant, client.Verified);
            // Every item is resolved before any is written: a card another service showed refuses the whole request.
            var resolved = new List<(FeedbackRecord Item, string Key, string? Invocation)>();
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                var key = DedupeKey(id, auditClient, item);
                // The cheap check spares the chain an event; the store checks again inside its transaction.
                if (writer.Enabled && await store.HasFeedbackAsync(key, http.RequestAborted))
                {
                    continue;
                }
                var card = writer.Enabled ? await store.FindCardAsync(item.Card, http.RequestAborted) : null;
                if (card is { ServiceId: var other } && other != id)
                {
                    problems.Add(new($"feedback[{i}].card",
                        $"feedback[{i}].card {item.Card} was shown by the service '{other}', not '{id}': send its feedback to /cds-services/{other}/feedback."));
                    continue;
                }
                resolved.Add((item, key, card?.EventId));
            }
            if (problems.Count > 0)
            {
                return OperationOutcomes.Result(400, HookValidation.ToOperationOutcome(problems));
            }
            var writes = new List<Task>();
            var written = new List<(FeedbackRecord Record, Guid EventId)>();
            foreach (var (item, key, invocation) in resolved)
            {
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

    /// <summary>One item's identity: the same item from the same client (issuer and tenant) to the same service is kept
    /// once; the same words from another client are that client's own feedback.</summary>
    private static string DedupeKey(string serviceId, AuditClient client, FeedbackRecord f) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n",
            serviceId, client.Issuer, client.Tenant, f.Card, f.Outcome, f.OutcomeTimestamp, string.Join(",", (f.AcceptedSuggestions ?? []).Order(StringComparer.Ordinal)),
            f.OverrideReason?.System, f.OverrideReason?.Code, f.UserComment))));

    /// <summary>The items, what is wrong with them, and how many the request carries: over <paramref name="max"/>, none is
    /// read (a long list of bad items costs no more to refuse than a long list of good ones).</summary>
    private static (List<FeedbackRecord> Items, List<ValidationProblem> Problems, int Count) Parse(ReadOnlyMemory<byte> body, int max)
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
                ? ([], [new("$", $"The body is not valid JSON (near line {line + 1}).")], 0)
                : JsonText.FindDuplicateKey(body.Span) is { } duplicate
                    ? ([], [new(duplicate.Path, $"The body is not valid JSON: the member {duplicate.Path} (line {duplicate.Line}) appears twice in its object.")], 0)
                    : ([], [new("$", "The body is not valid JSON.")], 0);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("feedback", out var list)
                || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                return ([], [new("feedback", "The body must be an object with a non-empty 'feedback' array.")], 0);
            }
            if (list.GetArrayLength() > max)
            {
                return ([], [], list.GetArrayLength());
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
        return (items, problems, items.Count);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } text ? text : null;
}
