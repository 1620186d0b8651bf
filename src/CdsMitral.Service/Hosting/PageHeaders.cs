using System.Security.Cryptography;
using System.Text;
using CdsMitral.Content;
using CdsMitral.Service.Audit;

namespace CdsMitral.Service.Hosting;

/// <summary>The headers every answer of the HTML pages carries (the pages, their JSON siblings and their errors):
/// no script at all, only the service's own two stylesheets (by hash), no framing, no sniffing, no referrer.</summary>
public static class PageHeaders
{
    public static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; style-src {Hash(ContentCatalog.Stylesheet)} {Hash(AuditEndpoints.Stylesheet)}; img-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>Declared on a route group; <paramref name="noStore"/> for what must not stay in a browser's or proxy's cache.
    /// <see cref="UsePageHeaders"/> applies it before authorization, so that a refusal carries the headers too.</summary>
    public static TBuilder WithPageHeaders<TBuilder>(this TBuilder builder, bool noStore)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PageHeadersMetadata(noStore));

    public static WebApplication UsePageHeaders(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<PageHeadersMetadata>() is { } page)
            {
                // When the answer starts, so that an error page written after a Response.Clear() keeps them as well.
                http.Response.OnStarting(() =>
                {
                    var headers = http.Response.Headers;
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers.XFrameOptions = "DENY"; // for browsers that predate frame-ancestors
                    headers["Referrer-Policy"] = "no-referrer";
                    if (page.NoStore)
                    {
                        headers.CacheControl = "no-store";
                    }
                    return Task.CompletedTask;
                });
            }
            return next(http);
        });
        return app;
    }

    private sealed record PageHeadersMetadata(bool NoStore);

    private static string Hash(string style) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(style)))}'";
}
