using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Trust;

/// <summary>The SSRF guard: the service calls only a fhirServer that the calling client is allowed to name.</summary>
public sealed class FhirServerPolicy(IOptions<TrustOptions> options)
{
    private readonly TrustOptions _options = options.Value;
    private readonly Dictionary<string, Regex[]> _byIssuer = options.Value.Clients.ToDictionary(
        c => c.Issuer, c => c.FhirServers.Select(Pattern).ToArray(), StringComparer.Ordinal);
    private readonly Regex[] _unverified = options.Value.UnverifiedFhirServers.Select(Pattern).ToArray();

    /// <summary>Null when allowed; otherwise why not, in words fit for the OperationOutcome.</summary>
    public string? Refusal(CallingClient client, string fhirServer)
    {
        var server = fhirServer.TrimEnd('/');
        if (_options.RequireHttpsFhirServer && !server.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return "fhirServer must use https.";
        }
        var patterns = client.Verified ? _byIssuer.GetValueOrDefault(client.Issuer!, []) : _unverified;
        return patterns.Any(p => p.IsMatch(server))
            ? null
            : $"fhirServer {server} is not on the list of FHIR servers this client may name.";
    }

    /// <summary>A base URL where * stands for any run of characters other than '/'.</summary>
    public static Regex Pattern(string pattern) =>
        new("^" + Regex.Escape(pattern.TrimEnd('/')).Replace("\\*", "[^/]*", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
}
