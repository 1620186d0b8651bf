using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsMitral.Service.Audit;

// The parts of chained hook and feedback documents the insights read: parsed from a document read back, or taken
// straight from the record this process just committed (the same parts, without reading and parsing 12 KB again).

public sealed record InsightsHookView(string? Hook, int Status, IReadOnlyList<InsightsRuleView>? Rules, IReadOnlyList<IndexCardView>? Cards, InsightsSnapshotView? Snapshot)
{
    /// <summary>The parts of <paramref name="record"/> its document holds, as <see cref="InsightsViews.Parse"/> reads them.</summary>
    public static InsightsHookView Of(InvocationRecord record) => new(
        record.Hook,
        record.Status,
        record.Rules?.Select(r => new InsightsRuleView(r.RuleId, r.Version, r.Fired, r.NotShown, r.Mode)).ToList(),
        record.Cards?.Select(c => new IndexCardView(c.Uuid, c.Indicator, new IndexSourceView(c.Source.Topic is { } t ? new IndexTopicView(t.Code) : null))).ToList(),
        record.Snapshot is { } s ? new InsightsSnapshotView(s.Findings.Select(f => new InsightsFindingView(f.Measure, f.Problem)).ToList()) : null);
}

public sealed record InsightsRuleView(string? RuleId, string? Version, bool Fired, string? NotShown, string? Mode);

public sealed record InsightsSnapshotView(IReadOnlyList<InsightsFindingView>? Findings);

public sealed record InsightsFindingView(string? Measure, string? Problem);

public sealed record InsightsFeedbackView(string? Card, string? Outcome, InsightsCodingView? OverrideReason)
{
    public static InsightsFeedbackView Of(FeedbackRecord record) =>
        new(record.Card, record.Outcome, record.OverrideReason is { } r ? new InsightsCodingView(r.Code) : null);
}

public sealed record InsightsCodingView(string? Code);

public static class InsightsViews
{
    /// <summary>An event as the insights count it, from the document read back from the store.</summary>
    public static InsightsEvent Parse(string id, string kind, DateTimeOffset at, string document) => kind switch
    {
        EventKind.Hook => new InsightsEvent(id, kind, at, Hook: Read(document, InsightsJson.Default.InsightsHookView)),
        EventKind.Feedback => new InsightsEvent(id, kind, at, Feedback: Read(document, InsightsJson.Default.InsightsFeedbackView)),
        _ => new InsightsEvent(id, kind, at),
    };

    /// <summary>The parts the insights count of an entry just committed, from its record; null when the entry carries
    /// none (written from a document alone), so that its document is read back instead.</summary>
    public static (InsightsHookView? Hook, InsightsFeedbackView? Feedback)? Of(AuditEntry entry) => entry switch
    {
        { Kind: EventKind.Hook, Invocation: { } hook } => (InsightsHookView.Of(hook), null),
        { Kind: EventKind.Feedback, Feedback: { } feedback } => (null, InsightsFeedbackView.Of(feedback)),
        _ => null,
    };

    private static T? Read<T>(string document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(document, type);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(InsightsHookView))]
[JsonSerializable(typeof(InsightsFeedbackView))]
public sealed partial class InsightsJson : JsonSerializerContext;
