using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>The governance figures, computed from the chained documents of hook, feedback and suppression events. Pure.</summary>
public static partial class InsightsReport
{
    /// <summary>How many data-quality findings a row names.</summary>
    public const int TopFindingsCount = 3;

    /// <summary>The text a limit-left-out rule outcome starts with (HookEvaluation.StandBack); other reasons are stand-backs.</summary>
    private const string LeftOutByLimit = "not shown: at most ";

    /// <summary>The (rule, hook) pairs where a rule is not shown, so not judged: its calls there do not count.</summary>
    private static readonly HashSet<(string Rule, string Hook)> NotJudgedOn = CdsMitral.Rules.SecondaryMrRules.Describe()
        .SelectMany(r => r.NotShown.Where(h => h.Value is not null).Select(h => (r.Info.Id, h.Key))).ToHashSet();

    public static string Week(DateTimeOffset at)
    {
        var day = at.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day)}-W{ISOWeek.GetWeekOfYear(day):00}");
    }

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private sealed class WeekFigures
    {
        public readonly DayTally Counts = new();
        public int Accepted, Overridden;
        public readonly Dictionary<string, int> By = new(StringComparer.Ordinal);
        public readonly List<double> Answers = [];
        public readonly Dictionary<string, int> Findings = new(StringComparer.Ordinal);
    }

    /// <summary>The day figures of a range gathered into rows per rule version and ISO week: a row for each week in which
    /// the rule fired (live or silently) or ran silently.</summary>
    public static IReadOnlyList<InsightsRow> Weeks(IReadOnlyDictionary<RuleDay, DayTally> days, IReadOnlyDictionary<(RuleDay Key, string Finding), int> findings,
        IEnumerable<CardAnswer> answers)
    {
        var weeks = new Dictionary<(string Rule, string Version, string Week), WeekFigures>();
        WeekFigures Of(RuleDay d)
        {
            var key = (d.Rule, d.Version, WeekOfDay(d.Day));
            return weeks.TryGetValue(key, out var w) ? w : weeks[key] = new WeekFigures();
        }
        foreach (var (day, tally) in days)
        {
            Of(day).Counts.Add(tally);
        }
        foreach (var ((day, finding), n) in findings)
        {
            var w = Of(day);
            w.Findings[finding] = w.Findings.GetValueOrDefault(finding) + n;
        }
        foreach (var a in answers)
        {
            var w = Of(a.Key);
            if (a.Outcome == "accepted")
            {
                w.Accepted++;
            }
            else
            {
                w.Overridden++;
                w.By[a.Reason ?? "(none)"] = w.By.GetValueOrDefault(a.Reason ?? "(none)") + 1;
            }
            w.Answers.Add(a.Seconds);
        }
        return weeks
            .Where(p => p.Value.Counts.Fired + p.Value.Counts.FiredSilently + p.Value.Counts.JudgedSilently > 0)
            .OrderBy(p => p.Key.Rule, StringComparer.Ordinal).ThenBy(p => p.Key.Version, StringComparer.Ordinal).ThenBy(p => p.Key.Week, StringComparer.Ordinal)
            .Select(p =>
            {
                var (w, t) = (p.Value, p.Value.Counts);
                return new InsightsRow(p.Key.Rule, p.Key.Version, p.Key.Week,
                    t.Judged, t.Fired, t.Judged == 0 ? null : (double)t.Fired / t.Judged,
                    t.JudgedSilently, t.FiredSilently, t.JudgedSilently == 0 ? null : (double)t.FiredSilently / t.JudgedSilently,
                    t.Shown, t.Suppressed, t.LeftOut, w.Accepted, w.Overridden,
                    w.By.OrderByDescending(b => b.Value).ThenBy(b => b.Key, StringComparer.Ordinal).ToList(),
                    t.Shown == 0 ? null : (double)w.Overridden / t.Shown,
                    Percentile(w.Answers, 50), Percentile(w.Answers, 95),
                    w.Findings.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).Take(TopFindingsCount).ToList());
            }).ToList();
    }

    private static string WeekOfDay(string day) =>
        Week(new DateTimeOffset(DateTime.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture), TimeSpan.Zero));

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
}
