using System.Globalization;
using System.Net;
using System.Text;

namespace CdsMitral.Service.Audit;

/// <summary>
/// /audit/insights: the governance view of the rules, per rule, version and ISO week, with its charts drawn on the server
/// as SVG (no script: the pages' CSP holds), and /audit/insights.csv with the same figures. Mapped on the /audit group,
/// so the auditors' sign-in and page headers apply.
/// </summary>
public static class InsightsEndpoints
{
    /// <summary>The weeks shown when no range is asked for.</summary>
    public const int DefaultWeeks = 12;

    public static RouteGroupBuilder MapInsights(this RouteGroupBuilder audit)
    {
        audit.MapGet("/insights", async (HttpContext http, InsightsRollup rollup, TimeProvider time) =>
        {
            var (from, to) = Range(http.Request.Query, time);
            var rows = await rollup.ReadAsync(from, to, http.RequestAborted);
            return Results.Content(Page(rows, from, to), "text/html; charset=utf-8");
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

    private static readonly string[] TableHeader =
    [
        "Rule", "Version", "Week", "Judged", "Fired", "Fire rate", "Judged silently", "Fired silently", "Silent fire rate", "Shown", "Suppressed", "Left out", "Accepted", "Overridden", "Overridden by reason", "Override rate",
        "Answer p50 (s)", "Answer p95 (s)", "Top data-quality findings",
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

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    private static string Page(IReadOnlyList<InsightsRow> rows, DateTimeOffset from, DateTimeOffset to)
    {
        var query = $"from={from:yyyy-MM-dd}&to={to.AddDays(-1):yyyy-MM-dd}";
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"""
            <h1>Rule insights</h1>
            <form class="filters" method="get" action="/audit/insights">
            <label>From<input type="date" name="from" value="{from:yyyy-MM-dd}"></label>
            <label>To<input type="date" name="to" value="{to.AddDays(-1):yyyy-MM-dd}"></label>
            <button type="submit">Show</button>
            </form>
            <p class="muted">Per rule version and ISO week of the hook call. <em>Judged</em>: answered calls of a hook that shows the rule;
            <em>fire rate</em>: fired ÷ judged. A rule in silent mode is judged and recorded but never shown: its calls and fires are counted
            apart (<em>judged silently</em>, <em>fired silently</em>), so what a new rule or version would do stands beside what the live
            one does. <em>Suppressed</em>: fired but stood back after earlier feedback;
            <em>left out</em>: fired but beyond the limit of cards per answer. Feedback counts in the week its card was shown; override
            rate is overridden ÷ shown; time to answer runs from the card shown to its feedback received (nearest rank).
            · <a id="insights-csv" href="/audit/insights.csv?{query}">CSV</a></p>
            """);
        if (rows.Count == 0)
        {
            b.Append("<p id=\"no-insights\">No hook calls in this range.</p>");
        }
        foreach (var group in rows.GroupBy(r => (r.RuleId, r.Version)))
        {
            b.Append(CultureInfo.InvariantCulture, $"<h2>{E(group.Key.RuleId)} {E(group.Key.Version)}</h2>\n").Append(Chart(group.Key.RuleId, group.Key.Version, group.ToList()));
        }
        b.Append("<table id=\"insights\"><thead><tr>")
            .Append(string.Concat(TableHeader.Select(h => $"<th>{h}</th>")))
            .Append("</tr></thead><tbody>");
        foreach (var r in rows)
        {
            b.Append("<tr>").Append(string.Concat(Cells(r).Select(c => $"<td>{E(c)}</td>"))).Append("</tr>\n");
        }
        b.Append("</tbody></table>");
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Rule insights · CdsMitral audit</title>
            <style>{{AuditEndpoints.Stylesheet}}</style></head><body>
            <p class="muted"><a href="/audit">CdsMitral audit trail</a></p>
            {{b}}
            </body></html>
            """;
    }

    private static readonly (string Name, string Colour, Func<InsightsRow, int> Value)[] Series =
    [
        ("shown", "#1565c0", r => r.Shown),
        ("suppressed", "#9e9e9e", r => r.Suppressed),
        ("overridden", "#ef6c00", r => r.Overridden),
        ("accepted", "#2e7d32", r => r.Accepted),
        ("fired silently", "#6a1b9a", r => r.FiredSilently),
    ];

    /// <summary>Grouped bars per week, with presentation attributes only (a style attribute would meet the CSP).</summary>
    public static string Chart(string ruleId, string version, IReadOnlyList<InsightsRow> weeks)
    {
        const int height = 160, top = 10, bottom = 40, left = 36, barWidth = 12, gap = 16;
        var max = Math.Max(1, weeks.Max(w => Series.Max(s => s.Value(w))));
        var groupWidth = Series.Length * barWidth + gap;
        var width = left + weeks.Count * groupWidth + 10;
        var plot = height - top - bottom;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"insights-chart\" id=\"chart-{E(ruleId)}-{E(version)}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width + 200}\" height=\"{height}\" viewBox=\"0 0 {width + 200} {height}\" role=\"img\" aria-label=\"{E(ruleId)} {E(version)} per week: shown, suppressed, overridden, accepted, fired silently\">");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top + plot}\" x2=\"{width}\" y2=\"{top + plot}\" stroke=\"#444\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{top + 8}\" text-anchor=\"end\" font-size=\"10\">{max}</text><text x=\"{left - 4}\" y=\"{top + plot}\" text-anchor=\"end\" font-size=\"10\">0</text>");
        for (var w = 0; w < weeks.Count; w++)
        {
            var x0 = left + w * groupWidth + gap / 2;
            for (var s = 0; s < Series.Length; s++)
            {
                var value = Series[s].Value(weeks[w]);
                var h = (int)Math.Round((double)value / max * plot);
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar {Series[s].Name.Replace(' ', '-')}\" x=\"{x0 + s * barWidth}\" y=\"{top + plot - h}\" width=\"{barWidth - 2}\" height=\"{h}\" fill=\"{Series[s].Colour}\"><title>{E(weeks[w].Week)}: {value} {Series[s].Name}</title></rect>");
            }
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + Series.Length * barWidth / 2}\" y=\"{top + plot + 14}\" text-anchor=\"middle\" font-size=\"10\">{E(weeks[w].Week)}</text>");
        }
        for (var s = 0; s < Series.Length; s++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{width + 20}\" y=\"{top + s * 16}\" width=\"10\" height=\"10\" fill=\"{Series[s].Colour}\"/><text x=\"{width + 36}\" y=\"{top + s * 16 + 9}\" font-size=\"11\">{Series[s].Name}</text>");
        }
        return svg.Append("</svg>\n").ToString();
    }
}
