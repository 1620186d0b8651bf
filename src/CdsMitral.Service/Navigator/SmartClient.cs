using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CdsMitral.Service.Fhir;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CdsMitral.Service.Navigator;

/// <summary>The parts of .well-known/smart-configuration the Navigator uses.</summary>
public sealed record SmartConfiguration(
    [property: JsonPropertyName("authorization_endpoint")] string? AuthorizationEndpoint,
    [property: JsonPropertyName("token_endpoint")] string? TokenEndpoint,
    [property: JsonPropertyName("code_challenge_methods_supported")] IReadOnlyList<string>? CodeChallengeMethods);

/// <summary>The token response, as SMART App Launch extends it with the launch context.</summary>
public sealed record SmartTokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("patient")] string? Patient,
    [property: JsonPropertyName("id_token")] string? IdToken)
{
    public override string ToString() => "SmartTokenResponse { access_token = (redacted) }";
}

[JsonSerializable(typeof(SmartConfiguration))]
[JsonSerializable(typeof(SmartTokenResponse))]
internal sealed partial class SmartJson : JsonSerializerContext;

/// <summary>
/// The OAuth 2.0 client side of SMART App Launch: discovery, PKCE (S256) and the code exchange. Built on System.Net.Http
/// with Microsoft.IdentityModel for the id_token, because the authorization server differs per launch (per iss), which
/// OpenIddict's client expects registered in advance. Every call goes through the FHIR client's connection guard.
/// </summary>
public sealed class SmartClient(IHttpClientFactory clients)
{
    private HttpClient Http => clients.CreateClient(FhirFetcher.HttpClientName);

    public async Task<(SmartConfiguration? Config, string? Problem)> DiscoverAsync(string iss, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await Http.GetAsync(new Uri(iss.TrimEnd('/') + "/.well-known/smart-configuration"), timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"The EHR's SMART configuration could not be read (HTTP {(int)response.StatusCode}).");
            }
            var config = await response.Content.ReadFromJsonAsync(SmartJson.Default.SmartConfiguration, timeout.Token);
            return config is { AuthorizationEndpoint: { } a, TokenEndpoint: { } t } && Absolute(a) && Absolute(t)
                ? (config, null)
                : (null, "The EHR's SMART configuration names no usable authorization and token endpoints.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException)
        {
            return (null, "The EHR's SMART configuration could not be read.");
        }
    }

    public async Task<(SmartTokenResponse? Token, string? Problem)> ExchangeAsync(PendingLaunch launch, string code, string clientId, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = launch.RedirectUri,
            ["client_id"] = clientId,
            ["code_verifier"] = launch.CodeVerifier,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, launch.TokenEndpoint) { Content = form };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await Http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"The EHR's authorization server refused to issue a token (HTTP {(int)response.StatusCode}).");
            }
            var token = await response.Content.ReadFromJsonAsync(SmartJson.Default.SmartTokenResponse, cancellationToken);
            return token is { AccessToken.Length: > 0 } && string.Equals(token.TokenType, "bearer", StringComparison.OrdinalIgnoreCase)
                ? (token, null)
                : (null, "The EHR's authorization server answered without a bearer access token.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException)
        {
            return (null, "The EHR's authorization server could not be reached.");
        }
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = NavigatorSessions.Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, NavigatorSessions.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    /// <summary>The user the id_token names (fhirUser, else sub). The id_token came straight from the token endpoint, so
    /// OpenID Connect Core 3.1.3.7 lets the TLS connection stand in for its signature; it is only read for a name.</summary>
    public static string? UserOf(string? idToken)
    {
        if (idToken is null)
        {
            return null;
        }
        try
        {
            var jwt = new JsonWebTokenHandler().ReadJsonWebToken(idToken);
            return jwt.TryGetPayloadValue<string>("fhirUser", out var user) ? user : jwt.Subject;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool Absolute(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "https" or "http";
}
