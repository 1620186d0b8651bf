using CdsMitral.Content;
using CdsMitral.Service.Hosting;

namespace CdsMitral.Service.Content;

public static class ContentEndpoints
{
    /// <summary>The explanatory pages cards link to, at stable URLs /content/{slug}.</summary>
    public static IEndpointRouteBuilder MapContent(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/content")).Public("a redirect to /content");
        // Cards link here from any EHR, signed in or not: the pages are the same text for everyone and name no patient.
        var content = app.MapGroup("/content").WithPageHeaders(noStore: false)
            .Public("the explanatory pages cards link to; the same for everyone, no patient data");
        content.MapGet("", (ContentCatalog catalog, HttpContext http) =>
            Results.Content(catalog.RenderIndex(http.PublicBaseUrl()), "text/html; charset=utf-8"));
        content.MapGet("/{slug}", (string slug, ContentCatalog catalog, HttpContext http) =>
            catalog.Find(slug) is { } page
                ? Results.Content(catalog.RenderPage(page, http.PublicBaseUrl()), "text/html; charset=utf-8")
                : OperationOutcomes.Error(404, "not-found", $"There is no content page '{slug}'. /content lists them."));
        return app;
    }
}
