using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CdsMitral.Service.Audit;

/// <summary>One rule version in one ISO week: what the committee that owns the rules looks at.</summary>
/// <param name="Judged">answered hook calls that judged the rule live (on a hook that shows it)</param>
/// <param name="Fired">hook calls in which the rule fired live</param>
/// <param name="FireRate">fired ÷ judged live; null when it was not judged live</param>
/// <param name="JudgedSilently">answered hook calls that judged the rule in silent mode</param>
/// <param name="FiredSilently">hook calls in which the rule would have fired, in silent mode (never shown)</param>
/// <param name="SilentFireRate">fired silently ÷ judged silently; null when it was not judged silently</param>
/// <param name="Shown">cards of the rule that were shown</param>
/// <param name="Suppressed">fired, but stood back after earlier feedback</param>
/// <param name="LeftOut">fired, but left out by the limit of cards per answer</param>
/// <param name="Accepted">shown cards answered "accepted"</param>
/// <param name="Overridden">shown cards answered "overridden"</param>
/// <param name="OverriddenBy">overridden, by reason code ("(none)" without one)</param>
/// <param name="OverrideRate">overridden ÷ shown; null with nothing shown</param>
/// <param name="AnswerP50Seconds">time from the card shown to its feedback received, median (nearest rank)</param>
/// <param name="AnswerP95Seconds">the same, 95th percentile (nearest rank)</param>
/// <param name="TopFindings">the data-quality findings most often in the snapshots the rule fired on, with counts</param>
public sealed record InsightsRow(
    string RuleId,
    string Version,
    string Week,
    int Judged,
    int Fired,
    double? FireRate,
    int JudgedSilently,
    int FiredSilently,
    double? SilentFireRate,
    int Shown,
    int Suppressed,
    int LeftOut,
    int Accepted,
    int Overridden,
    IReadOnlyList<KeyValuePair<string, int>> OverriddenBy,
    double? OverrideRate,
    double? AnswerP50Seconds,
    double? AnswerP95Seconds,
    IReadOnlyList<KeyValuePair<string, int>> TopFindings);

/// <summary>An audit event as the insights read it: its kind, its time as stored, and its chained document.</summary>
public sealed record InsightsEvent(string Kind, DateTimeOffset At, string Document);

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

/// <summary>The governance figures, computed from the chained documents of hook, feedback and suppression events. Pure.</summary>
public static class InsightsReport
{
    /// <summary>How many data-quality findings a row names.</summary>
    public const int TopFindingsCount = 3;

    /// <summary>The text a limit-left-out rule outcome starts with (HookEvaluation.StandBack); other reasons are stand-backs.</summary>
    private const string LeftOutByLimit = "not shown: at most ";

    /// <summary>The (rule, hook) pairs where a rule is not shown, so not judged: its calls there do not count.</summary>
    private static readonly HashSet<(string Rule, string Hook)> NotJudgedOn = CdsMitral.Rules.SecondaryMrRules.Describe()
        .SelectMany(r => r.NotShown.Where(h => h.Value is not null).Select(h => (r.Info.Id, h.Key))).ToHashSet();

    private sealed class Tally
    {
        public int Judged, Fired, JudgedSilently, FiredSilently, Shown, Suppressed, LeftOut, Accepted, Overridden;
        public readonly Dictionary<string, int> By = new(StringComparer.Ordinal);
        public readonly List<double> Answers = [];
        public readonly Dictionary<string, int> Findings = new(StringComparer.Ordinal);
    }

    public static string Week(DateTimeOffset at)
    {
        var day = at.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day)}-W{ISOWeek.GetWeekOfYear(day):00}");
    }

    /// <summary>Rows per rule, version and ISO week (of the hook call), in rule, version and week order. Feedback counts
    /// in the week its card was shown. Events in the chain's order (a feedback item after the call that showed its card).</summary>
    public static IReadOnlyList<InsightsRow> Compute(IEnumerable<InsightsEvent> events)
    {
        var report = new Accumulator();
        foreach (var e in events)
        {
            report.Add(e);
        }
        return report.Rows();
    }

    /// <summary>The figures built up one event at a time, so that a long range is read as a stream: what is kept per
    /// event is a card's uuid and week, never its document.</summary>
    public sealed class Accumulator
    {
        private readonly Dictionary<(string Rule, string Version, string Week), Tally> _tallies = [];
        private readonly Dictionary<string, ((string, string, string) Key, DateTimeOffset At)> _cards = new(StringComparer.Ordinal);

        private Tally Of((string, string, string) key) => _tallies.TryGetValue(key, out var t) ? t : _tallies[key] = new Tally();

        public void Add(InsightsEvent e)
        {
            if (e.Kind == EventKind.Feedback)
            {
                AddFeedback(e);
            }
            else if (e.Kind == EventKind.Hook && Read(e.Document, InsightsJson.Default.InsightsHookView) is { Status: 200 } hook)
            {
                AddHook(e.At, hook);
            }
        }

        private void AddHook(DateTimeOffset at, InsightsHookView hook)
        {
            var week = Week(at);
            var findings = (hook.Snapshot?.Findings ?? []).Select(f => $"{f.Measure}: {f.Problem}").Distinct(StringComparer.Ordinal).ToList();
            foreach (var rule in (hook.Rules ?? []).Where(r => r.RuleId is not null && r.Mode != "off" && !NotJudgedOn.Contains((r.RuleId, hook.Hook ?? ""))))
            {
                var silent = rule.Mode == "silent";
                var key = (rule.RuleId!, rule.Version ?? "", week);
                var t = Of(key);
                if (silent)
                {
                    t.JudgedSilently++;
                    t.FiredSilently += rule.Fired ? 1 : 0;
                }
                else
                {
                    t.Judged++;
                    t.Fired += rule.Fired ? 1 : 0;
                }
                if (!rule.Fired)
                {
                    continue;
                }
                // A silent rule's card is never shown, so nothing of it stood back or was left out.
                if (!silent && rule.NotShown is { } why)
                {
                    if (why.StartsWith(LeftOutByLimit, StringComparison.Ordinal))
                    {
                        t.LeftOut++;
                    }
                    else
                    {
                        t.Suppressed++;
                    }
                }
                foreach (var finding in findings)
                {
                    t.Findings[finding] = t.Findings.GetValueOrDefault(finding) + 1;
                }
                foreach (var card in (hook.Cards ?? []).Where(c => c.Source?.Topic?.Code == rule.RuleId && c.Uuid is not null))
                {
                    t.Shown++;
                    _cards[card.Uuid!] = (key, at);
                }
            }
        }

        private void AddFeedback(InsightsEvent e)
        {
            if (Read(e.Document, InsightsJson.Default.InsightsFeedbackView) is not { Card: { } uuid } f || !_cards.TryGetValue(uuid, out var shown))
            {
                return;
            }
            var t = Of(shown.Key);
            if (f.Outcome == "accepted")
            {
                t.Accepted++;
            }
            else if (f.Outcome == "overridden")
            {
                t.Overridden++;
                var reason = f.OverrideReason?.Code ?? "(none)";
                t.By[reason] = t.By.GetValueOrDefault(reason) + 1;
            }
            else
            {
                return;
            }
            t.Answers.Add((e.At - shown.At).TotalSeconds);
        }

        /// <summary>A row per rule version and week in which the rule fired (live or silently) or ran silently: a live rule
        /// that never fired that week has no row, and its fire rate there is 0.</summary>
        public IReadOnlyList<InsightsRow> Rows() => _tallies
            .Where(p => p.Value.Fired + p.Value.FiredSilently + p.Value.JudgedSilently > 0)
            .OrderBy(p => p.Key.Rule, StringComparer.Ordinal).ThenBy(p => p.Key.Version, StringComparer.Ordinal).ThenBy(p => p.Key.Week, StringComparer.Ordinal)
            .Select(p =>
            {
                var t = p.Value;
                return new InsightsRow(p.Key.Rule, p.Key.Version, p.Key.Week,
                    t.Judged, t.Fired, t.Judged == 0 ? null : (double)t.Fired / t.Judged,
                    t.JudgedSilently, t.FiredSilently, t.JudgedSilently == 0 ? null : (double)t.FiredSilently / t.JudgedSilently,
                    t.Shown, t.Suppressed, t.LeftOut, t.Accepted, t.Overridden,
                    t.By.OrderByDescending(b => b.Value).ThenBy(b => b.Key, StringComparer.Ordinal).ToList(),
                    t.Shown == 0 ? null : (double)t.Overridden / t.Shown,
                    Percentile(t.Answers, 50), Percentile(t.Answers, 95),
                    t.Findings.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).Take(TopFindingsCount).ToList());
            }).ToList();
    }

    /// <summary>Nearest rank: the smallest value with at least p % of the values at or below it.</summary>
    public static double? Percentile(IReadOnlyCollection<double> values, int p)
    {
        if (values.Count == 0)
        {
            return null;
        }
        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
    }

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
