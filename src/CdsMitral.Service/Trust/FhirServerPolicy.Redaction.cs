using System.Text.RegularExpressions;

namespace CdsMitral.Service.Trust;

// What of a fhirServer URL the log and the audit may keep.
public sealed partial class FhirServerPolicy
{
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
