using System.Text.Json.Serialization;

namespace CdsMitral.Service.Audit;

// The parts of chained hook and feedback documents the insights read.

public sealed record InsightsHookView(string? Hook, int Status, IReadOnlyList<InsightsRuleView>? Rules, IReadOnlyList<IndexCardView>? Cards, InsightsSnapshotView? Snapshot);

public sealed record InsightsRuleView(string? RuleId, string? Version, bool Fired, string? NotShown, string? Mode);

public sealed record InsightsSnapshotView(IReadOnlyList<InsightsFindingView>? Findings);

public sealed record InsightsFindingView(string? Measure, string? Problem);

public sealed record InsightsFeedbackView(string? Card, string? Outcome, InsightsCodingView? OverrideReason);

public sealed record InsightsCodingView(string? Code);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(InsightsHookView))]
[JsonSerializable(typeof(InsightsFeedbackView))]
public sealed partial class InsightsJson : JsonSerializerContext;
