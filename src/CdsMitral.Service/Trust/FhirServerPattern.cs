namespace CdsMitral.Service.Trust;

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
