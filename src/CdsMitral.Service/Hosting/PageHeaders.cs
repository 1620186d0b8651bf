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

    /// <summary>Declared on a route group; <paramref name="noStore"/> for what must not stay in a browser's or proxy's cache.</summary>
    public static TBuilder WithPageHeaders<TBuilder>(this TBuilder builder, bool noStore)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY"; // for browsers that predate frame-ancestors
            headers["Referrer-Policy"] = "no-referrer";
            if (noStore)
            {
                headers.CacheControl = "no-store";
            }
            return await next(context);
        });

    private static string Hash(string style) => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(style)))}'";
}
