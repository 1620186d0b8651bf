using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
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

    /// <summary>A URL fit for the log and the audit: no user information, and the values of query parameters that look
    /// like credentials replaced.</summary>
    public static string Redact(Uri url)
    {
        if (!url.IsAbsoluteUri)
        {
            return url.OriginalString;
        }
        var safe = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return url.Query.Length > 1 ? safe + "?" + RedactQuery(url.Query[1..]) : safe;
    }

    /// <summary>The same for a string that may not even be a URL (an audited fhirServer that was refused as malformed).</summary>
    public static string? Redact(string? url)
    {
        if (url is null)
        {
            return null;
        }
        if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            return Redact(parsed);
        }
        // Unparseable: cut whatever stands before an '@' in the authority, and the query with it.
        var cut = UserInfo().Replace(url, "$1");
        var query = cut.IndexOfAny(['?', '#']);
        return query < 0 ? cut : cut[..query];
    }

    private static readonly string[] SecretNameParts = ["token", "secret", "password", "passwd", "apikey", "api_key", "auth", "session"];

    private static string RedactQuery(string query) => string.Join('&', query.Split('&').Select(pair =>
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
        var secret = name is "key" or "sig" or "signature" or "code_verifier" or "credential"
                     || SecretNameParts.Any(s => name.Contains(s, StringComparison.Ordinal));
        return secret && equals >= 0 ? pair[..equals] + "=REDACTED" : pair;
    }));

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.-]*:/*)[^/?#]*@")]
    private static partial Regex UserInfo();
}

/// <summary>A fhirServer as the service will use it: parsed the way the fetcher builds its URLs (trailing '/' added,
/// dot segments removed), with the host normalised and the path split into decoded segments.</summary>
public sealed record FhirServerUrl(string Scheme, string Host, int Port, IReadOnlyList<string> Segments, bool IsAddress)
{
    /// <summary>Either the URL or the reason it is refused.</summary>
    public static (FhirServerUrl? Url, string? Problem) Parse(string fhirServer)
    {
        if (!Uri.TryCreate(fhirServer, UriKind.Absolute, out var uri) || !uri.IsAbsoluteUri)
        {
            return (null, "fhirServer is not an absolute URL.");
        }
        var host = NormalHost(uri.IdnHost);
        // Uri finds user information only before the last '@'; any '@' (or its escape) in the authority is refused.
        var authority = fhirServer[(fhirServer.IndexOf("//", StringComparison.Ordinal) is var s and >= 0 ? s + 2 : 0)..];
        authority = authority[..(authority.IndexOfAny(['/', '?', '#', '\\']) is var end and >= 0 ? end : authority.Length)];
        if (uri.UserInfo.Length > 0 || authority.Contains('@', StringComparison.Ordinal) || authority.Contains("%40", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"fhirServer on host {host} carries user information (name or password before '@'), which is never allowed.");
        }
        if (uri.Scheme is not ("http" or "https"))
        {
            return (null, "fhirServer must be an http or https URL.");
        }
        if (uri.Fragment.Length > 0 || fhirServer.Contains('#', StringComparison.Ordinal) || uri.Query.Length > 0)
        {
            return (null, $"fhirServer on host {host} has a query or fragment; a FHIR base URL has neither.");
        }
        if (host.Length == 0)
        {
            return (null, "fhirServer names no host.");
        }
        // The fetcher resolves every query against this form of the URL: compare what it will request.
        var based = new Uri(fhirServer.TrimEnd('/') + "/");
        if (PathSegments(based.AbsolutePath) is not { } segments)
        {
            return (null, $"fhirServer on host {host} has a path segment that hides a '/' or a dot segment.");
        }
        return (new FhirServerUrl(uri.Scheme, host, uri.Port, segments, uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6), null);
    }

    /// <summary>Lower case, punycode, no trailing dot; addresses in their canonical text form (IPv6 without brackets).</summary>
    public static string NormalHost(string host)
    {
        var trimmed = host.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(trimmed, out var address))
        {
            return address.ToString();
        }
        return Uri.TryCreate($"http://{trimmed}/", UriKind.Absolute, out var uri)
            ? uri.IdnHost.TrimEnd('.').ToLowerInvariant()
            : trimmed.ToLowerInvariant();
    }

    /// <summary>Decoded path segments, or null when one would decode to a separator or a dot segment
    /// (a server that decodes them would see another path than the one compared).</summary>
    public static List<string>? PathSegments(string absolutePath)
    {
        var segments = new List<string>();
        foreach (var raw in absolutePath.Split('/')[1..])
        {
            var segment = Uri.UnescapeDataString(raw);
            if (segment.IndexOfAny(['/', '\\']) >= 0 || segment is "." or ".." || segment.Any(char.IsControl))
            {
                return null;
            }
            segments.Add(segment);
        }
        // "/fhir/" and "/fhir" are the same base URL.
        while (segments.Count > 0 && segments[^1].Length == 0)
        {
            segments.RemoveAt(segments.Count - 1);
        }
        return segments;
    }
}

/// <summary>One allowlist entry, parsed at start-up: scheme, host (optionally "*." then a domain: any one label in
/// place of the star), port (or "*": any), and a path prefix compared segment by segment ("*" is any one segment).</summary>
public sealed record FhirServerPattern(string Scheme, string Host, bool AnySubdomain, int? Port, IReadOnlyList<string?> Segments)
{
    public static FhirServerPattern Parse(string pattern) =>
        TryParse(pattern, out var parsed, out var problem) ? parsed : throw new FormatException(problem);

    /// <summary>Parses a pattern, or says in a sentence what is wrong with it.</summary>
    public static bool TryParse(string pattern, out FhirServerPattern parsed, out string problem)
    {
        parsed = null!;
        problem = "";
        var text = pattern.Trim();
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? "" : text[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            problem = "it must start with http:// or https://";
            return false;
        }
        var rest = text[(schemeEnd + 3)..];
        if (rest.IndexOfAny(['?', '#', '\\']) >= 0)
        {
            problem = "a FHIR base URL has no query, fragment or backslash";
            return false;
        }
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : rest[slash..];
        if (authority.Contains('@', StringComparison.Ordinal) || authority.Contains("%40", StringComparison.OrdinalIgnoreCase))
        {
            problem = "it must not carry user information (name or password before '@')";
            return false;
        }
        var hostEnd = authority.StartsWith('[') ? authority.IndexOf(']', StringComparison.Ordinal) + 1 : authority.LastIndexOf(':');
        var hostText = hostEnd <= 0 ? authority : authority[..hostEnd];
        var portText = hostEnd <= 0 || hostEnd >= authority.Length ? null : authority[hostEnd..];
        if (portText is not null && !portText.StartsWith(':'))
        {
            problem = "its host is not followed by ':' and a port";
            return false;
        }
        portText = portText?[1..];
        int? port = scheme == "https" ? 443 : 80;
        if (portText == "*")
        {
            port = null;
        }
        else if (portText is not null)
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                problem = $"its port '{portText}' is neither a number from 1 to 65535 nor '*'";
                return false;
            }
            port = p;
        }
        var anySubdomain = hostText.StartsWith("*.", StringComparison.Ordinal);
        var domain = anySubdomain ? hostText[2..] : hostText;
        if (domain.Contains('*', StringComparison.Ordinal))
        {
            problem = "a '*' may stand only as the whole first label of the host ('*.example.org'), as the whole port, or as a whole path segment";
            return false;
        }
        if (domain.Length == 0 || !Uri.TryCreate($"{scheme}://{domain}/", UriKind.Absolute, out var hostUri) || hostUri.UserInfo.Length > 0
            || hostUri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6 or UriHostNameType.Basic))
        {
            problem = $"'{hostText}' is not a host name or address";
            return false;
        }
        if (anySubdomain && hostUri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.Basic))
        {
            problem = "a '*.' label can stand only before a domain name, not an address";
            return false;
        }
        var segments = new List<string?>();
        foreach (var raw in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw == "*")
            {
                segments.Add(null);
                continue;
            }
            var segment = Uri.UnescapeDataString(raw);
            if (raw.Contains('*', StringComparison.Ordinal))
            {
                problem = "a '*' may stand only as the whole first label of the host ('*.example.org'), as the whole port, or as a whole path segment";
                return false;
            }
            if (segment is "." or ".." || segment.IndexOfAny(['/', '\\']) >= 0 || segment.Any(char.IsControl))
            {
                problem = $"its path segment '{raw}' is a dot segment or hides a separator";
                return false;
            }
            segments.Add(segment);
        }
        parsed = new FhirServerPattern(scheme, FhirServerUrl.NormalHost(hostUri.IdnHost), anySubdomain, port, segments);
        return true;
    }

    /// <summary>Component by component: wildcards only where the pattern has them, the path as a whole-segment prefix.</summary>
    public bool Admits(FhirServerUrl url)
    {
        if (url.Scheme != Scheme || (Port is { } port && url.Port != port))
        {
            return false;
        }
        var hostMatches = AnySubdomain
            ? !url.IsAddress && url.Host.EndsWith("." + Host, StringComparison.Ordinal)
              && url.Host.Length > Host.Length + 1 && !url.Host[..^(Host.Length + 1)].Contains('.', StringComparison.Ordinal)
            : url.Host == Host;
        if (!hostMatches || url.Segments.Count < Segments.Count)
        {
            return false;
        }
        for (var i = 0; i < Segments.Count; i++)
        {
            if (Segments[i] is { } segment ? !string.Equals(url.Segments[i], segment, StringComparison.Ordinal) : url.Segments[i].Length == 0)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Start-up check of every FHIR server pattern: a malformed one stops the service with a sentence.</summary>
public sealed class FhirServerPatternsValidator : IValidateOptions<TrustOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var named = options.Clients.SelectMany((c, i) => c.FhirServers.Select((p, j) => ($"CdsMitral:Trust:Clients:{i}:FhirServers:{j}", p)))
            .Concat(options.UnverifiedFhirServers.Select((p, j) => ($"CdsMitral:Trust:UnverifiedFhirServers:{j}", p)));
        var errors = named.Select(n => FhirServerPattern.TryParse(n.p, out _, out var problem) ? null : $"{n.Item1} is '{n.p}', which is not a FHIR server pattern: {problem}.")
            .OfType<string>().ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// Opens the FHIR client's connections: resolves the host once, refuses loopback, private, link-local (cloud metadata),
/// unspecified and multicast addresses unless a pattern names the host itself, and connects to the addresses it
/// checked, so a second lookup (DNS rebinding) cannot change them.
/// </summary>
/// <param name="resolve">How names are resolved; DNS unless a test registers a resolver (no wildcard name on a test
/// machine resolves to loopback by itself).</param>
public sealed class FhirServerConnector(FhirServerPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await (resolve ?? Dns.GetHostAddressesAsync)(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, $"fhirServer host {host} resolves to no address.");
        }
        if (!policy.NamesLiterally(host) && addresses.Select(Forbidden).FirstOrDefault(k => k is not null) is { } kind)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"fhirServer host {host} resolves to a {kind} address, which no allowed pattern names; refused before connecting.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The kind of address the service must not reach through a name it was not given literally, or null.</summary>
    public static string? Forbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return Forbidden(address.MapToIPv4());
        }
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var length);
        if (address.AddressFamily == AddressFamily.InterNetwork && length == 4)
        {
            return (b[0], b[1]) switch
            {
                (127, _) => "loopback",
                (10, _) or (172, >= 16 and <= 31) or (192, 168) => "private",
                (100, >= 64 and <= 127) => "private (shared, RFC 6598)",
                (169, 254) => "link-local (cloud metadata)",
                (0, _) => "unspecified",
                (>= 224 and <= 239, _) => "multicast",
                (255, 255) when b[2] == 255 && b[3] == 255 => "broadcast",
                _ => null,
            };
        }
        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }
        if (address.Equals(IPAddress.IPv6Any))
        {
            return "unspecified";
        }
        // ::a.b.c.d (IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address a gateway may reach.
        var embedded = b[..12].SequenceEqual(new byte[12]) || (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].SequenceEqual(new byte[8]));
        return (b[0] & 0xfe) == 0xfc ? "private (unique local)"
            : b[0] == 0xfe && (b[1] & 0xc0) is 0x80 or 0xc0 ? "link-local"
            : b[0] == 0xff ? "multicast"
            : embedded ? Forbidden(new IPAddress(b[12..16]))
            : null;
    }
}
