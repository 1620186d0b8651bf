using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Trust;

/// <summary>The SSRF guard: the service calls only a fhirServer that the calling client is allowed to name, compared
/// as parsed components (scheme, host, port, path segments), never as a string.</summary>
public sealed partial class FhirServerPolicy(IOptions<TrustOptions> options)
{
    private readonly TrustOptions _options = options.Value;
    private readonly Dictionary<string, FhirServerPattern[]> _byIssuer = options.Value.Clients.ToDictionary(
        c => c.Issuer, c => c.FhirServers.Select(FhirServerPattern.Parse).ToArray(), StringComparer.Ordinal);
    private readonly FhirServerPattern[] _unverified = options.Value.UnverifiedFhirServers.Select(FhirServerPattern.Parse).ToArray();

    /// <summary>Null when allowed; otherwise why not, in words fit for the OperationOutcome (naming the host, never the whole string).</summary>
    public string? Refusal(CallingClient client, string fhirServer)
    {
        var (url, problem) = FhirServerUrl.Parse(fhirServer);
        if (url is null)
        {
            return problem;
        }
        if (_options.RequireHttpsFhirServer && url.Scheme != "https")
        {
            return "fhirServer must use https.";
        }
        var patterns = client.Verified ? _byIssuer.GetValueOrDefault(client.Issuer!, []) : _unverified;
        return patterns.Any(p => p.Admits(url))
            ? null
            : $"fhirServer on host {url.Host} is not on the list of FHIR servers this client may name.";
    }

    /// <summary>True when some pattern names this host (or address) itself, not through a wildcard label: only then may
    /// it resolve to a loopback, private or link-local address.</summary>
    public bool NamesLiterally(string host)
    {
        var normal = FhirServerUrl.NormalHost(host);
        return _byIssuer.Values.SelectMany(p => p).Concat(_unverified).Any(p => !p.AnySubdomain && p.Host == normal);
    }
}
