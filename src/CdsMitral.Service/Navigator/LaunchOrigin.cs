using System.Text.Json;
using System.Text.RegularExpressions;
using CdsMitral.Rules;

namespace CdsMitral.Service.Navigator;

/// <summary>Which card opened the session, as the card's SMART link put it in appContext (CardBuilder.NavigatorLink:
/// <c>{"card": uuid, "rule": id, "hook": name}</c>) and the EHR handed it back in the token response. The text came
/// through the EHR from anyone who can shape a launch, so only a well-formed uuid and the ids this service issues are
/// kept; anything else is dropped and marked, never copied.</summary>
/// <param name="Inferred">Set when the launch carried no appContext and the card was taken from the audit instead: which
/// card that is, and on what grounds, in words (the issue of 2026-12-07: say which).</param>
public sealed record LaunchOrigin(string? Card, string? Rule, string? Hook, bool Unrecognised, string? Inferred = null)
{
    private static readonly HashSet<string> Rules = [.. SecondaryMrRules.All.Select(r => r.Id)];

    /// <summary>From the audit, when the EHR relayed no appContext: the most recent card with a Navigator link shown to this
    /// patient, in the last <paramref name="window"/>, by a client that may name this FHIR server.</summary>
    public static async Task<LaunchOrigin?> InferAsync(Audit.AuditStore? store, string patient, IReadOnlyList<string?> clients, DateTimeOffset now,
        TimeSpan window, CancellationToken cancellationToken)
    {
        if (store is null || await store.LatestCardAsync(patient, clients, Cards.CardBuilder.NavigatorRules, now - window, cancellationToken) is not { } latest)
        {
            return null;
        }
        return new LaunchOrigin(latest.Card, latest.Rule, latest.Hook, false,
            $"no appContext in the launch: the most recent card with a Navigator link shown to Patient/{patient} by this EHR, at {Audit.AuditStore.Timestamp(latest.At)}");
    }

    private static readonly HashSet<string> Hooks = [CdsMitral.Hooks.Hook.PatientView, CdsMitral.Hooks.Hook.OrderSelect, CdsMitral.Hooks.Hook.OrderSign];

    /// <summary>Null when the launch carried no appContext (a standalone launch, or an EHR that drops it).</summary>
    public static LaunchOrigin? From(string? appContext)
    {
        if (string.IsNullOrEmpty(appContext))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(appContext, new JsonDocumentOptions { MaxDepth = 4 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new LaunchOrigin(null, null, null, true);
            }
            string? Text(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var card = Text("card") is { } c && Guid.TryParseExact(c, "D", out var uuid) ? uuid.ToString("D") : null;
            var rule = Text("rule") is { } r && Rules.Contains(r) ? r : null;
            var hook = Text("hook") is { } h && Hooks.Contains(h) ? h : null;
            return new LaunchOrigin(card, rule, hook, card is null || rule is null);
        }
        catch (JsonException)
        {
            return new LaunchOrigin(null, null, null, true);
        }
    }
}

/// <summary>What the write-back came to: saved (with the ids the FHIR server returned), refused (its HTTP status),
/// unreachable, not granted by the EHR, or impossible on an open FHIR server.</summary>
public sealed partial record WriteBackOutcome(string Outcome, int? Status = null, IReadOnlyList<string>? Created = null)
{
    public const string Offered = "offered";
    public const string NotGranted = "not-granted";
    public const string OpenServer = "none: open FHIR server, no authorization";
    public const string Saved = "saved";
    public const string Refused = "refused";
    public const string Unreachable = "unreachable";

    /// <summary>The QuestionnaireResponse and ServiceRequest ids in a transaction-response's locations; nothing else of
    /// the server's answer is kept.</summary>
    public static IReadOnlyList<string> CreatedIn(string transactionResponse)
    {
        try
        {
            using var doc = JsonDocument.Parse(transactionResponse);
            if (!doc.RootElement.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
            {
                return [];
            }
            return [.. entries.EnumerateArray()
                .Select(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.Object
                    && r.TryGetProperty("location", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null)
                .Select(l => l is null ? null : Location().Match(l))
                .Where(m => m is { Success: true })
                .Select(m => $"{m!.Groups[1].Value}/{m.Groups[2].Value}")];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    [GeneratedRegex(@"^(?:https?://[^\s]+/)?(QuestionnaireResponse|ServiceRequest)/([A-Za-z0-9\-\.]{1,64})(?:/_history/[A-Za-z0-9\-\.]{1,64})?$")]
    private static partial Regex Location();
}
