using System.Net;

namespace CdsMitral.Service.Trust;

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
