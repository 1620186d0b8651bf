using System.Globalization;
using System.Text.Json;
using CdsMitral.Rules;
using CdsMitral.Service.Audit.Pages;
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

    private static async Task<IResult> ListPage(HttpContext http, AuditStore store, TimeProvider time, CdsServiceRegistry registry, PageRenderer pages)
    {
        var (filter, page) = Filter(http.Request.Query);
        var (rows, total) = await store.ListAsync(filter, page, PageSize, http.RequestAborted);
        var report = http.Request.Query.ContainsKey("verify")
            ? await store.VerifyAsync(time, full: true, http.RequestAborted)
            : await store.PageReportAsync(time, http.RequestAborted);
        return Html(pages.Render<AuditListPage>(new Dictionary<string, object?>
        {
            [nameof(AuditListPage.Rows)] = rows,
            [nameof(AuditListPage.Total)] = total,
            [nameof(AuditListPage.Page)] = page,
            [nameof(AuditListPage.PageSize)] = PageSize,
            [nameof(AuditListPage.Report)] = report,
            [nameof(AuditListPage.Query)] = http.Request.Query,
            [nameof(AuditListPage.ServiceIds)] = registry.Services.Select(s => s.Id),
            [nameof(AuditListPage.RuleIds)] = SecondaryMrRules.All.Select(r => r.Id),
        }));
    }

    private static async Task<IResult> DetailPage(string id, HttpContext http, AuditStore store, Terminology.Terminology terminology, PageRenderer pages)
    {
        if (await store.GetAsync(id, http.RequestAborted) is not { } found)
        {
            return OperationOutcomes.Error(404, "not-found", $"No invocation {id} in the audit trail.");
        }
        return Html(pages.Render<AuditDetailPage>(new Dictionary<string, object?>
        {
            [nameof(AuditDetailPage.Id)] = id,
            [nameof(AuditDetailPage.Record)] = JsonSerializer.Deserialize(found.Invocation.Document, AuditJson.Default.InvocationRecord)!,
            [nameof(AuditDetailPage.Stored)] = found.Invocation,
            [nameof(AuditDetailPage.Feedback)] = found.Feedback.Select(f => JsonSerializer.Deserialize(f.Document, AuditJson.Default.FeedbackRecord)!).ToList(),
            [nameof(AuditDetailPage.Terminology)] = terminology,
        }));
    }

    /// <summary>A page the auditors' components rendered (Pages/), as the answer.</summary>
    internal static IResult Html(string html) => Results.Content(html, "text/html; charset=utf-8");

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
