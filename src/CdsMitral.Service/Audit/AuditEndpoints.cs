using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CdsMitral.Content;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Hosting;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Audit;

/// <summary>The auditors' view of the trail: /audit (server-rendered pages, no script) and /audit/api (JSON), behind
/// the auditors' own credentials (HTTP Basic; serve it over HTTPS), never a CDS client's JWT.</summary>
public static class AuditEndpoints
{
    private const int PageSize = 50;

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        // The page headers are set before authorization runs, so that refusals (401, 429) carry them too.
        var audit = app.MapGroup("/audit").WithPageHeaders(noStore: true).RequireAuthorization(AuditorAuthentication.Policy);
        audit.MapGet("", ListPage);
        audit.MapGet("/invocations/{id}", DetailPage);
        audit.MapGet("/export.csv", ExportCsv);
        audit.MapGet("/export.ndjson", ExportNdjson);
        audit.MapInsights();
        audit.MapGet("/api/invocations", async (HttpContext http, AuditStore store) =>
        {
            var (filter, page) = Filter(http.Request.Query);
            var (rows, total) = await store.ListAsync(filter, page, PageSize, http.RequestAborted);
            // Past AuditStore.CountLimit, total is that limit + 1 and totalIsAtLeast says so.
            return Results.Json(new { total, totalIsAtLeast = total > AuditStore.CountLimit, page, pageSize = PageSize, items = rows });
        });
        audit.MapGet("/api/invocations/{id}", async (string id, HttpContext http, AuditStore store) =>
            await store.GetAsync(id, http.RequestAborted) is { } found
                ? Results.Text(
                    $"{{\"seq\":{found.Invocation.Seq},\"hash\":\"{found.Invocation.Hash}\",\"record\":{found.Invocation.Document},\"feedback\":[{string.Join(",", found.Feedback.Select(f => f.Document))}]}}",
                    "application/json")
                : OperationOutcomes.Error(404, "not-found", $"No invocation {id} in the audit trail."));
        // What was added since the last check, or with ?full=true the whole chain again.
        audit.MapGet("/api/verify", async (AuditStore store, TimeProvider time, HttpContext http) =>
            Results.Json(await store.VerifyAsync(time, http.Request.Query["full"] == "true", http.RequestAborted), AuditJson.Default.ChainReport));
        // The archives retention wrote, each checked again (events, seal, and the digest its purge recorded).
        audit.MapGet("/api/archives", async (AuditStore store, HttpContext http) =>
            Results.Json(await store.VerifyArchivesAsync(http.RequestAborted), AuditJson.Default.ArchivesReport));
        audit.MapGet("/api/feedback/unmatched", async (AuditStore store, HttpContext http) =>
            Results.Text($"[{string.Join(",", (await store.UnmatchedFeedbackAsync(200, http.RequestAborted)).Select(e => e.Document))}]", "application/json"));
        return app;
    }

    private static (AuditFilter Filter, int Page) Filter(IQueryCollection q)
    {
        static string? S(IQueryCollection q, string key) => q[key].FirstOrDefault() is { Length: > 0 } v ? v.Trim() : null;
        static DateTimeOffset? D(string? text, int addDays) =>
            text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d.AddDays(addDays) : null;
        var to = S(q, "to");
        var page = int.TryParse(S(q, "page"), out var p) && p > 0 ? p : 1;
        // "to" is a day the auditor wants included: the filter runs to the start of the next day.
        return (new AuditFilter(D(S(q, "from"), 0), to is { Length: 10 } ? D(to, 1) : D(to, 0), S(q, "service"), S(q, "patient"), S(q, "user"),
            S(q, "rule"), S(q, "indicator"), S(q, "feedback"), int.TryParse(S(q, "status"), out var st) ? st : null, S(q, "card")), page);
    }

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>The pages' only style; PageHeaders allows exactly this text (by its hash) and no other.</summary>
    internal const string Stylesheet = """
        body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b} table{border-collapse:collapse;width:100%;font-size:.9rem}
        th,td{border-bottom:1px solid #ddd;padding:.3rem .4rem;text-align:left;vertical-align:top} th{background:#f4f4f4}
        form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:1rem 0} form.filters label{display:flex;flex-direction:column;font-size:.8rem}
        .ok{background:#e8f5e9;padding:.4rem .8rem} .bad{background:#fdecea;padding:.4rem .8rem;font-weight:bold}
        .card{border:1px solid #ccc;border-left:6px solid #1565c0;padding:.5rem 1rem;margin:.8rem 0;max-width:60rem}
        .card.warning{border-left-color:#ef6c00} .card.critical{border-left-color:#c62828} .muted{color:#666}
        code{font-size:.85rem}
        """;

    private static string Page(string title, string body) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{E(title)}} · CdsMitral audit</title>
        <style>{{Stylesheet}}</style></head><body>
        <p class="muted"><a href="/audit">CdsMitral audit trail</a> · <a href="/audit/insights">Rule insights</a></p>
        {{body}}
        </body></html>
        """;

    private static async Task<IResult> ListPage(HttpContext http, AuditStore store, TimeProvider time, CdsServiceRegistry registry)
    {
        var (filter, page) = Filter(http.Request.Query);
        var (rows, total) = await store.ListAsync(filter, page, PageSize, http.RequestAborted);
        var report = http.Request.Query.ContainsKey("verify")
            ? await store.VerifyAsync(time, full: true, http.RequestAborted)
            : await store.PageReportAsync(time, http.RequestAborted);
        var q = http.Request.Query;
        string Value(string key) => E(q[key].FirstOrDefault());
        string Options(string key, IEnumerable<string> values) =>
            "<option value=\"\">any</option>" + string.Join("", values.Select(v => $"<option{(q[key].FirstOrDefault() == v ? " selected" : "")}>{E(v)}</option>"));
        var query = string.Join("&", q.Where(kv => kv.Key is not ("page" or "verify")).Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value.ToString())}"));
        var chain = report is null
            ? "<p class=\"muted\" id=\"chain\">The chain is being verified: this process has not finished its first full walk yet. Reload for its result, or <a href=\"/audit?verify=now\">wait for it</a>.</p>"
            : report.Intact
            ? $"<p class=\"ok\" id=\"chain\">Chain intact: {report.Events} events verified at {report.CheckedAt:yyyy-MM-dd HH:mm:ss} UTC. {E(report.Note)} <a href=\"/audit?verify=now\">Verify now</a></p>"
            : $"<p class=\"bad\" id=\"chain\">Chain broken{(report.FirstBrokenSeq is { } at ? $" at event {at}" : "")}: {E(report.Problem)}. <a href=\"/audit?verify=now\">Verify again</a></p>";
        var table = new StringBuilder();
        foreach (var r in rows)
        {
            table.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"/audit/invocations/{E(r.EventId)}\">{r.At:yyyy-MM-dd HH:mm:ss}</a></td><td>{E(r.ServiceId)}</td><td>{r.Status}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{E(r.PatientId)}</td><td>{E(r.UserId)}</td><td>{E(r.ClientIssuer)}</td><td>{E(string.Join(", ", r.RuleIds))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{E(string.Join(", ", r.Indicators))}</td><td>{E(string.Join(", ", r.FeedbackOutcomes))}</td></tr>");
        }
        var pages = (int)Math.Max(1, (total + PageSize - 1) / PageSize);
        var counted = total > AuditStore.CountLimit
            ? string.Create(CultureInfo.InvariantCulture, $"More than {AuditStore.CountLimit:N0} invocations (narrow the filter to count them) · page {page}")
            : $"{total} invocations · page {page} of {pages}";
        var nav = $"<p>{counted}"
            + (page > 1 ? $" · <a href=\"/audit?{query}&page={page - 1}\">previous</a>" : "")
            + (page < pages ? $" · <a href=\"/audit?{query}&page={page + 1}\">next</a>" : "")
            + $" · export this filter: <a id=\"export-csv\" href=\"/audit/export.csv?{query}\">CSV</a>, <a href=\"/audit/export.ndjson?{query}\">NDJSON</a></p>";
        var body = $"""
            <h1>Hook invocations</h1>
            {chain}
            <form class="filters" method="get" action="/audit">
            <label>From<input type="date" name="from" value="{Value("from")}"></label>
            <label>To<input type="date" name="to" value="{Value("to")}"></label>
            <label>Service<select name="service">{Options("service", registry.Services.Select(s => s.Id))}</select></label>
            <label>Patient<input name="patient" value="{Value("patient")}"></label>
            <label>Card<input name="card" value="{Value("card")}" placeholder="uuid"></label>
            <label>User<input name="user" value="{Value("user")}"></label>
            <label>Rule<select name="rule">{Options("rule", SecondaryMrRules.All.Select(r => r.Id))}</select></label>
            <label>Indicator<select name="indicator">{Options("indicator", ["info", "warning", "critical"])}</select></label>
            <label>Feedback<select name="feedback">{Options("feedback", ["accepted", "overridden"])}</select></label>
            <label>Status<input name="status" size="4" value="{Value("status")}"></label>
            <button type="submit">Filter</button>
            </form>
            {nav}
            <table id="invocations"><thead><tr><th>Time (UTC)</th><th>Service</th><th>Status</th><th>Patient</th><th>User</th><th>Client</th><th>Rules fired</th><th>Indicators</th><th>Feedback</th></tr></thead>
            <tbody>{table}</tbody></table>
            """;
        return Results.Content(Page("Invocations", body), "text/html; charset=utf-8");
    }

    private static async Task<IResult> DetailPage(string id, HttpContext http, AuditStore store, Terminology.Terminology terminology)
    {
        if (await store.GetAsync(id, http.RequestAborted) is not { } found)
        {
            return OperationOutcomes.Error(404, "not-found", $"No invocation {id} in the audit trail.");
        }
        var r = JsonSerializer.Deserialize(found.Invocation.Document, AuditJson.Default.InvocationRecord)!;
        var feedback = found.Feedback.Select(f => JsonSerializer.Deserialize(f.Document, AuditJson.Default.FeedbackRecord)!).ToList();
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"<h1>{E(r.ServiceId)} · {r.At:yyyy-MM-dd HH:mm:ss} UTC · {r.Status}</h1>");
        b.Append("<table><tbody>");
        void Fact(string name, string? value) => b.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>");
        Fact("Hook", r.Hook);
        Fact("hookInstance", r.HookInstance);
        Fact("Reason", r.Reason);
        Fact("Client", r.Client.Verified
            ? $"{r.Client.Name} {r.Client.Issuer} (jti {r.Client.Jti}{(r.Client.Tenant is null ? "" : $", tenant {r.Client.Tenant}")})"
            : "not authenticated (verification off, or the client's JWT was refused)");
        Fact("FHIR server", r.FhirServer);
        Fact("Patient / user / encounter", $"{r.PatientId} / {r.UserId} / {r.EncounterId}");
        Fact("Timings (ms)", r.Timings is { } t ? $"parse {t.ParseMs:0.0}, gather {t.GatherMs:0.0}, evaluate {t.EvaluateMs:0.0}, total {t.TotalMs:0.0}" : null);
        Fact("Versions", $"service {r.ServiceVersion}, rule set {r.RuleSetVersion}");
        Fact("Chain", $"event {found.Invocation.Seq}, hash {found.Invocation.Hash}, {(found.Invocation.KeyId is { } key ? $"key {key}" : "legacy, unkeyed")}"
            + (found.Invocation.Problem is { } broken ? $" — NOT VERIFIED: {broken}" : ""));
        b.Append("</tbody></table>");

        if (r.Prefetch is { Count: > 0 } keys)
        {
            b.Append("<h2>Inputs</h2><table><thead><tr><th>Prefetch key</th><th>Source</th><th>Resources</th><th>Problem</th></tr></thead><tbody>");
            foreach (var k in keys)
            {
                b.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(k.Key)}</td><td>{k.Source}</td><td>{k.Resources}</td><td>{E(k.Problem)}</td></tr>");
            }
            b.Append("</tbody></table>");
        }
        if (r.Queries is { Count: > 0 } queries)
        {
            b.Append("<h3>FHIR queries</h3><table><thead><tr><th>URL</th><th>Status</th><th>ms</th><th>Attempts</th><th>Error</th></tr></thead><tbody>");
            foreach (var fq in queries)
            {
                b.Append(CultureInfo.InvariantCulture, $"<tr><td><code>{E(fq.Url)}</code></td><td>{fq.Status}</td><td>{fq.DurationMs:0.0}</td><td>{fq.Attempts}</td><td>{E(fq.Error)}</td></tr>");
            }
            b.Append("</tbody></table>");
        }
        if (r.Snapshot is { } s)
        {
            b.Append("<h3>Values used</h3><table><tbody>");
            foreach (var m in new[] { s.Lvef, s.Lvesd, s.Pasp, s.Eroa, s.RegurgitantVolume, s.RegurgitantFraction, s.Lvedv }.OfType<Snapshot.Measurement>())
            {
                Fact(m.Name, $"{m.Display} on {m.DateText} ({m.Source}){(m.IsStale ? ", stale" : "")}");
            }
            Fact("MR severity", s.Mr is { } mr ? $"{mr.Label} on {mr.DateText} ({mr.Source}){(mr.IsStale ? ", stale" : "")}" : "none on record");
            Fact("Mechanism", $"{s.Mechanism.Label}: {s.Mechanism.Basis}");
            foreach (var (gdmtClass, uses) in s.Gdmt.ByClass)
            {
                Fact($"GDMT: {Snapshot.GdmtStatus.Name(gdmtClass)}", uses.Count == 0 ? "none on record" : string.Join(", ", uses.Select(u => $"{u.Name} ({u.Source})")));
            }
            foreach (var p in s.MitralProcedures)
            {
                Fact("Mitral procedure", $"{p.Name} on {p.DateText} ({p.Source})");
            }
            foreach (var f in s.Findings)
            {
                Fact("Data quality", $"{f.Measure} {f.Source} {f.Problem}");
            }
            b.Append("</tbody></table>");
        }
        if (r.Rules is { Count: > 0 } rules)
        {
            b.Append("<h2>Rules</h2><table><thead><tr><th>Rule</th><th>Version</th><th>Fired</th><th>Why</th></tr></thead><tbody>");
            foreach (var rule in rules)
            {
                b.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(rule.RuleId)}</td><td>{E(rule.Version)}</td><td>{(rule.Fired ? "yes" : "no")}{(rule.Mode is { } mode ? $" ({E(mode)})" : "")}</td><td>{E(rule.NotShown is { } notShown ? $"{rule.Reason} — {notShown}" : rule.Reason)}</td></tr>");
            }
            b.Append("</tbody></table>");
        }
        b.Append("<h2>Cards as shown</h2>");
        if (r.Cards is not { Count: > 0 } cards)
        {
            b.Append("<p>No cards.</p>");
        }
        else
        {
            foreach (var c in cards)
            {
                b.Append(CultureInfo.InvariantCulture, $"<div class=\"card {E(c.Indicator)}\" data-card=\"{E(c.Uuid)}\"><p><strong>{E(c.Summary)}</strong> <span class=\"muted\">{E(c.Indicator)} · {E(c.Source.Topic?.Code)} · {E(c.Uuid)}</span></p>");
                b.Append(ContentCatalog.RenderMarkdown(c.Detail ?? ""));
                foreach (var link in c.Links ?? [])
                {
                    b.Append(ContentCatalog.IsSafeUrl(link.Url, image: false)
                        ? $"<p>→ <a href=\"{E(link.Url)}\">{E(link.Label)}</a></p>"
                        : $"<p>→ {E(link.Label)} <code>{E(link.Url)}</code></p>");
                }
                foreach (var suggestion in c.Suggestions ?? [])
                {
                    b.Append(CultureInfo.InvariantCulture, $"<p>Suggestion: {E(suggestion.Label)} <span class=\"muted\">{E(suggestion.Uuid)}</span></p>");
                }
                b.Append("</div>");
            }
        }
        b.Append("<h2>Feedback</h2>");
        if (feedback.Count == 0)
        {
            b.Append("<p id=\"feedback\">None received.</p>");
        }
        else
        {
            b.Append("<table id=\"feedback\"><thead><tr><th>Received (UTC)</th><th>Card</th><th>Outcome</th><th>At (client)</th><th>Accepted suggestions</th><th>Override reason</th><th>Comment</th></tr></thead><tbody>");
            foreach (var f in feedback)
            {
                b.Append(CultureInfo.InvariantCulture, $"<tr><td>{f.At:yyyy-MM-dd HH:mm:ss}</td><td>{E(f.Card)}</td><td>{E(f.Outcome)}</td><td>{E(f.OutcomeTimestamp)}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td>{E(string.Join(", ", f.AcceptedSuggestions ?? []))}</td><td>{E(f.OverrideReason is { } o ? $"{o.Display ?? terminology.Display(Terminology.Vs.CardOverrideReasons, o) ?? o.Code} ({o.System}|{o.Code})" : null)}</td><td>{E(f.UserComment)}</td></tr>");
            }
            b.Append("</tbody></table>");
        }
        return Results.Content(Page($"Invocation {id}", b.ToString()), "text/html; charset=utf-8");
    }

    private static async Task ExportCsv(HttpContext http, AuditStore store)
    {
        var (filter, _) = Filter(http.Request.Query);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"cdsmitral-audit.csv\"";
        await http.Response.WriteAsync("event_id,at,service_id,hook,hook_instance,status,patient_id,user_id,client_issuer,rules_fired,indicators,feedback\n", http.RequestAborted);
        await foreach (var (r, _) in store.ExportAsync(filter, http.RequestAborted))
        {
            await http.Response.WriteAsync(string.Join(",", new[]
            {
                r.EventId, r.At.ToString("O", CultureInfo.InvariantCulture), r.ServiceId, r.Hook, r.HookInstance, r.Status.ToString(CultureInfo.InvariantCulture),
                r.PatientId, r.UserId, r.ClientIssuer, string.Join(" ", r.RuleIds), string.Join(" ", r.Indicators), string.Join(" ", r.FeedbackOutcomes),
            }.Select(Csv)) + "\n", http.RequestAborted);
        }
    }

    /// <summary>A CSV cell, quoted when needed, and defused where a spreadsheet would read it as a formula.</summary>
    public static string Csv(string? value)
    {
        var text = value ?? "";
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }
        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private static async Task ExportNdjson(HttpContext http, AuditStore store)
    {
        var (filter, _) = Filter(http.Request.Query);
        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"cdsmitral-audit.ndjson\"";
        await foreach (var (r, document) in store.ExportAsync(filter, http.RequestAborted))
        {
            await http.Response.WriteAsync($"{{\"eventId\":\"{r.EventId}\",\"record\":{document}}}\n", http.RequestAborted);
        }
    }
}
