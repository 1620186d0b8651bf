using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace CdsMitral.Cli;

public static class Http
{
    public static HttpClient Client(TimeSpan? timeout = null) => new() { Timeout = timeout ?? TimeSpan.FromSeconds(30) };

    /// <summary>The service base URL from what a person typed: "http://host:5080", ".../cds-services" or a service URL.</summary>
    public static string ServiceBase(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException(CliException.BadInput, $"'{url}' is not an http(s) URL.");
        }
        var text = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        var at = text.IndexOf("/cds-services", StringComparison.Ordinal);
        return at >= 0 ? text[..at] : text;
    }

    public static async Task<(int Status, JsonNode? Body, double Ms)> SendAsync(HttpClient client, HttpMethod method, string url, JsonNode? body = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        JsonNode? json = null;
        try
        {
            json = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: the status says enough.
        }
        return ((int)response.StatusCode, json, ms);
    }

    /// <summary>The texts of an OperationOutcome, for error messages.</summary>
    public static string Issues(JsonNode? outcome) =>
        outcome?["issue"] is JsonArray issues
            ? string.Join("; ", issues.Select(i => (string?)i?["details"]?["text"] ?? (string?)i?["diagnostics"] ?? (string?)i?["code"]))
            : "(no details)";

    /// <param name="fhirServer">True when the refusal came from a FHIR server (its token), not from the CDS service (its client JWT).</param>
    public static Exception Refusal(int status, JsonNode? body, string what, bool fhirServer = false) => status switch
    {
        401 when fhirServer => new CliException(CliException.Refused, $"{what}: the FHIR server refused the token (401). Check --token."),
        401 => new CliException(CliException.Refused, $"{what}: the service did not authenticate this client (401). Sign with --sign-with and --issuer, or run the service in Development."),
        403 => new CliException(CliException.Refused, $"{what}: refused (403): {Issues(body)}"),
        412 => new CliException(CliException.PreconditionFailed, $"{what}: the service could not obtain required data (412): {Issues(body)}"),
        _ => new CliException(CliException.HttpError, $"{what}: HTTP {status}: {Issues(body)}"),
    };
}
