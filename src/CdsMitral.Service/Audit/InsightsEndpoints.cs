using System.Globalization;
using System.Text;
using CdsMitral.Service.Audit.Pages;
using CdsMitral.Service.Hosting;

namespace CdsMitral.Service.Audit;

/// <summary>
/// /audit/insights: the governance view of the rules, per rule, version and ISO week, with its charts drawn on the server
/// as SVG (no script: the pages' CSP holds; the page is Pages/InsightsPage.razor), and /audit/insights.csv with the same
/// figures. Mapped on the /audit group, so the auditors' sign-in and page headers apply.
/// </summary>
public static class InsightsEndpoints
{
    /// <summary>The weeks shown when no range is asked for.</summary>
    public const int DefaultWeeks = 12;

    public static RouteGroupBuilder MapInsights(this RouteGroupBuilder audit)
    {
        audit.MapGet("/insights", async (HttpContext http, InsightsRollup rollup, TimeProvider time, PageRenderer pages) =>
        {
            var (from, to) = Range(http.Request.Query, time);
            var rows = await rollup.ReadAsync(from, to, http.RequestAborted);
            return AuditEndpoints.Html(pages.Render<InsightsPage>(new Dictionary<string, object?>
            {
                [nameof(InsightsPage.Rows)] = rows,
                [nameof(InsightsPage.From)] = from,
                [nameof(InsightsPage.To)] = to,
            }));
        });
        audit.MapGet("/insights.csv", async (HttpContext http, InsightsRollup rollup, TimeProvider time) =>
        {
            var (from, to) = Range(http.Request.Query, time);
            var rows = await rollup.ReadAsync(from, to, http.RequestAborted);
            http.Response.Headers.ContentDisposition = "attachment; filename=\"cdsmitral-insights.csv\"";
            return Results.Text(Csv(rows), "text/csv; charset=utf-8");
        });
        return audit;
    }

    /// <summary>from and to are days (to included); by default the last <see cref="DefaultWeeks"/> weeks up to today.</summary>
    private static (DateTimeOffset From, DateTimeOffset To) Range(IQueryCollection q, TimeProvider time)
    {
        static DateTimeOffset? Day(string? text) =>
            DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? new DateTimeOffset(d, TimeSpan.Zero) : null;
        var to = Day(q["to"].FirstOrDefault())?.AddDays(1) ?? new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
        var from = Day(q["from"].FirstOrDefault()) ?? to.AddDays(-7 * DefaultWeeks);
        return (from, to);
    }

    public static readonly string[] CsvHeader =
    [
        "rule_id", "rule_version", "week", "judged", "fired", "fire_rate", "judged_silently", "fired_silently", "silent_fire_rate", "shown", "suppressed", "left_out_by_limit", "accepted", "overridden",
        "overridden_by_reason", "override_rate", "answer_p50_seconds", "answer_p95_seconds", "top_data_quality_findings",
    ];

    public static string Number(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "";

    private static string Counts(IEnumerable<KeyValuePair<string, int>> counts) => string.Join("; ", counts.Select(c => $"{c.Key} ×{c.Value}"));

    public static IReadOnlyList<string> Cells(InsightsRow r) =>
    [
        r.RuleId, r.Version, r.Week, I(r.Judged), I(r.Fired), Number(r.FireRate), I(r.JudgedSilently), I(r.FiredSilently), Number(r.SilentFireRate), I(r.Shown), I(r.Suppressed), I(r.LeftOut), I(r.Accepted), I(r.Overridden),
        Counts(r.OverriddenBy), Number(r.OverrideRate), Number(r.AnswerP50Seconds), Number(r.AnswerP95Seconds), Counts(r.TopFindings),
    ];

    private static string I(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Every cell through AuditEndpoints.Csv: quoted where needed, and never read as a formula by a spreadsheet.</summary>
    public static string Csv(IReadOnlyList<InsightsRow> rows)
    {
        var text = new StringBuilder(string.Join(",", CsvHeader)).Append('\n');
        foreach (var r in rows)
        {
            text.Append(string.Join(",", Cells(r).Select(AuditEndpoints.Csv))).Append('\n');
        }
        return text.ToString();
    }
}
