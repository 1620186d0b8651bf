using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

public static class HttpContextExtensions
{
    /// <summary>The base URL clients use (see <see cref="PublicBase"/>): card links and the expected JWT audience are
    /// built from it. Never the request's Host header, which the caller chooses.</summary>
    public static string PublicBaseUrl(this HttpContext http) => http.RequestServices.GetRequiredService<PublicBase>().Url;
}

/// <summary>The service's own base URL, settled once: CdsMitral:PublicBaseUrl, or in Development (where the validator
/// lets it be unset) the first listening address from configuration (urls, Kestrel endpoints), else Kestrel's default.</summary>
public sealed class PublicBase(IOptions<CdsMitralOptions> options, IConfiguration configuration, IServiceProvider services)
{
    private string? _url;

    public string Url => _url ??= Resolve();

    private string Resolve()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl))
        {
            return options.Value.PublicBaseUrl.TrimEnd('/');
        }
        var listening = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>())
            .Concat(services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .FirstOrDefault() ?? "http://localhost:5000";
        // A wildcard listening host ("*", "+", 0.0.0.0, [::]) is no address a client can call: name this machine by localhost.
        var uri = new UriBuilder(listening.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "localhost";
        }
        return uri.Uri.GetLeftPart(UriPartial.Authority) + uri.Path.TrimEnd('/');
    }
}
