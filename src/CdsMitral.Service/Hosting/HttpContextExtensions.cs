using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

public static class HttpContextExtensions
{
    /// <summary>The base URL clients use: the configured PublicBaseUrl (behind a proxy), else this request's scheme and host.
    /// Card links and the expected JWT audience are built from it.</summary>
    public static string PublicBaseUrl(this HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<CdsMitralOptions>>().Value.PublicBaseUrl?.TrimEnd('/')
        ?? $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
}
