using System.Net;
using CdsMitral.Content;
using CdsMitral.Service.Hosting;

namespace CdsMitral.Service.Content;

public static class ContentEndpoints
{
    /// <summary>The explanatory pages cards link to, at stable URLs /content/{slug}.</summary>
    public static IEndpointRouteBuilder MapContent(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/content"));
        app.MapGet("/content", (ContentCatalog catalog, HttpContext http) =>
        {
            var baseUrl = http.PublicBaseUrl();
            var items = string.Join("", catalog.Pages.Select(p =>
                $"<li><a href=\"{WebUtility.HtmlEncode(baseUrl)}/content/{p.Slug}\">{WebUtility.HtmlEncode(p.Title)}</a> — {WebUtility.HtmlEncode(p.Summary)}</li>"));
            return Results.Content(
                $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>CdsMitral content</title></head><body style=\"font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto\"><h1>CdsMitral: secondary mitral regurgitation</h1><p>Explanatory pages linked from the service's cards. CDS Hooks discovery is at <a href=\"{WebUtility.HtmlEncode(baseUrl)}/cds-services\">/cds-services</a>.</p><ul>{items}</ul></body></html>",
                "text/html; charset=utf-8");
        });
        app.MapGet("/content/{slug}", (string slug, ContentCatalog catalog, HttpContext http) =>
            catalog.Find(slug) is { } page
                ? Results.Content(catalog.RenderPage(page, http.PublicBaseUrl()), "text/html; charset=utf-8")
                : OperationOutcomes.Error(404, "not-found", $"There is no content page '{slug}'. /content lists them."));
        return app;
    }
}
