using System.Text.Json;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CdsMitral.Service.Navigator;

/// <summary>What <c>{iss}/.well-known/smart-configuration</c> says (SMART App Launch 2.x, Discovery), as the launch uses it.</summary>
public sealed record SmartConfiguration(string AuthorizationEndpoint, string TokenEndpoint);

/// <summary>SMART discovery through the FHIR reads' guarded client: no redirects, no private address unless an allowlist
/// pattern names it, a short timeout. Only the discovery is ours; the OAuth exchange is the library's.</summary>
public sealed class SmartDiscovery(IHttpClientFactory clients)
{
    public async Task<(SmartConfiguration? Configuration, string? Problem)> DiscoverAsync(string iss, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await clients.CreateClient(FhirFetcher.HttpClientName)
                .GetAsync(new Uri(iss.TrimEnd('/') + "/.well-known/smart-configuration"), timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"The EHR's SMART configuration could not be read (HTTP {(int)response.StatusCode}).");
            }
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), default, timeout.Token);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "The EHR's SMART configuration is not a JSON object.");
            }
            var authorize = Text(root, "authorization_endpoint");
            var token = Text(root, "token_endpoint");
            if (!Usable(authorize) || !Usable(token))
            {
                return (null, "The EHR's SMART configuration names no usable authorization and token endpoints.");
            }
            // SMART 2.x requires S256; a server that does not say so would get a challenge it may ignore.
            var methods = root.TryGetProperty("code_challenge_methods_supported", out var m) && m.ValueKind == JsonValueKind.Array
                ? m.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()).ToList()
                : [];
            return methods.Contains("S256")
                ? (new SmartConfiguration(authorize!, token!), null)
                : (null, "The EHR's SMART configuration does not offer PKCE with S256, which the Navigator requires.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException)
        {
            return (null, "The EHR's SMART configuration could not be read (no answer, or not JSON).");
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Usable(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "https" or "http" && u.UserInfo.Length == 0 && u.Fragment.Length == 0;
}

/// <summary>What the token response carried, copied out before the library disposes it. The access token stays in
/// server memory; <see cref="ToString"/> never shows it.</summary>
public sealed record SmartGrant(string AccessToken, long? ExpiresIn, string Scope, string? Patient, string? Encounter,
    bool? NeedPatientBanner, string? AppContext, string? IdToken)
{
    public override string ToString() => $"SmartGrant {{ access_token = (redacted), patient = {Patient} }}";

    /// <summary>The user the id_token names (fhirUser, else sub). It came straight from the token endpoint, so OpenID
    /// Connect Core 3.1.3.7 lets the TLS connection stand in for its signature; it is only read for a name.</summary>
    public string? User
    {
        get
        {
            if (IdToken is null)
            {
                return null;
            }
            try
            {
                var jwt = new JsonWebTokenHandler().ReadJsonWebToken(IdToken);
                return jwt.TryGetPayloadValue<string>("fhirUser", out var user) ? user : jwt.Subject;
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    }

    public static SmartGrant? From(OAuthTokenResponse tokens)
    {
        var root = tokens.Response?.RootElement;
        if (root is not { ValueKind: JsonValueKind.Object } r || string.IsNullOrEmpty(tokens.AccessToken)
            || !string.Equals(tokens.TokenType, "bearer", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string? Text(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long? expires = r.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var s) ? s : null;
        bool? banner = r.TryGetProperty("need_patient_banner", out var b) && b.ValueKind is JsonValueKind.True or JsonValueKind.False ? b.GetBoolean() : null;
        // SMART says appContext is a string; some servers send the object itself.
        var appContext = r.TryGetProperty("appContext", out var a)
            ? a.ValueKind == JsonValueKind.String ? a.GetString() : a.ValueKind == JsonValueKind.Object ? a.GetRawText() : null
            : null;
        return new SmartGrant(tokens.AccessToken, expires, Text("scope") ?? "", Text("patient"), Text("encounter"), banner, appContext, Text("id_token"));
    }
}

/// <summary>
/// The ASP.NET Core OAuth handler, unchanged where it matters: it keeps the protected <c>state</c>, the correlation cookie
/// that binds it to the launching browser, PKCE S256 and the code exchange. SMART adds what differs per launch: the
/// endpoints discovered from <c>iss</c> travel in the protected state, <c>aud</c> and <c>launch</c> join the authorize
/// request, and the exchange goes to the token endpoint this launch discovered (through <see cref="SmartBackchannel"/>).
/// </summary>
public sealed class SmartOAuthHandler(IOptionsMonitor<SmartOAuthOptions> options, ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder,
    NavigatorSessions sessions)
    : OAuthHandler<SmartOAuthOptions>(options, logger, encoder)
{
    public const string SchemeName = "smart";
    public const string IssItem = "smart.iss";
    public const string AuthorizeItem = "smart.authorize";
    public const string TokenItem = "smart.token";
    public const string LaunchItem = "smart.launch";
    public const string LaunchIdItem = "smart.launch-id";

    /// <summary>Set on the second request of a launch whose write scopes were refused: it asks for reading only.</summary>
    public const string ReadOnlyItem = "smart.read-only";
    public const string AuthorizePlaceholder = "https://authorization-endpoint.invalid/authorize";
    public const string TokenPlaceholder = "https://token-endpoint.invalid/token";

    /// <summary>The token endpoint of the exchange in flight, for <see cref="SmartBackchannel"/>: the library builds its
    /// request on <see cref="OAuthOptions.TokenEndpoint"/>, which is one value for every EHR.</summary>
    internal static readonly AsyncLocal<string?> TokenEndpoint = new();

    /// <summary>Set once the exchange has started: a failure after it means the authorization server refused a token.</summary>
    internal static readonly object ExchangeStarted = new();

    /// <summary>The redirect_uri is the public base URL's, never built from the request's Host header.</summary>
    private string RedirectUri => Context.PublicBaseUrl() + Options.CallbackPath;

    protected override string BuildChallengeUrl(AuthenticationProperties properties, string redirectUri)
    {
        // The library builds the query (client_id, scope, redirect_uri, PKCE, protected state) on a placeholder endpoint.
        var built = new Uri(base.BuildChallengeUrl(properties, RedirectUri));
        var query = QueryHelpers.ParseQuery(built.Query).ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        // aud names the FHIR server the token is for, so the authorization server mints it for no other.
        query["aud"] = properties.Items[IssItem];
        if (properties.Items.TryGetValue(LaunchItem, out var launch) && launch is { Length: > 0 })
        {
            query["launch"] = launch;
        }
        return QueryHelpers.AddQueryString(properties.Items[AuthorizeItem]!, query);
    }

    protected override async Task<OAuthTokenResponse> ExchangeCodeAsync(OAuthCodeExchangeContext context)
    {
        // The library's state and correlation cookie have matched; the launch must also still be pending on this server,
        // so a state is good once, and not after the launch lifetime, whatever cookie a replay carries.
        if (!context.Properties.Items.TryGetValue(LaunchIdItem, out var id) || !await sessions.TakeLaunchAsync(id, Context.RequestAborted))
        {
            return OAuthTokenResponse.Failed(new NavigatorLaunchException(400, NavigatorLaunchException.NoLaunchTitle, NavigatorLaunchException.NoLaunchMessage));
        }
        Context.Items[ExchangeStarted] = true;
        TokenEndpoint.Value = context.Properties.Items[TokenItem];
        try
        {
            return await base.ExchangeCodeAsync(new OAuthCodeExchangeContext(context.Properties, context.Code, RedirectUri));
        }
        finally
        {
            TokenEndpoint.Value = null;
        }
    }

    protected override async Task<AuthenticationTicket> CreateTicketAsync(System.Security.Claims.ClaimsIdentity identity, AuthenticationProperties properties,
        OAuthTokenResponse tokens)
    {
        Context.Items[typeof(SmartGrant)] = SmartGrant.From(tokens);
        return await base.CreateTicketAsync(identity, properties, tokens);
    }
}

/// <summary>OAuthOptions for a SMART public client: PKCE alone, no client secret.</summary>
public sealed class SmartOAuthOptions : OAuthOptions
{
    /// <summary>OAuthOptions insists on a client secret (dotnet/aspnetcore#22218) although a SMART public client has none:
    /// its check is shown a stand-in, and the token request carries no client_secret (<see cref="SmartBackchannel"/>).</summary>
    public override void Validate()
    {
        var secret = ClientSecret;
        ClientSecret = string.IsNullOrEmpty(secret) ? "(public client)" : secret;
        try
        {
            base.Validate();
        }
        finally
        {
            ClientSecret = secret;
        }
    }
}

/// <summary>The library's back channel: its token request goes to the endpoint this launch discovered, through the same
/// guarded connections as the FHIR reads (no redirects, no private address unless allowlisted).</summary>
public sealed class SmartBackchannel(IHttpMessageHandlerFactory handlers) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri?.AbsoluteUri != SmartOAuthHandler.TokenPlaceholder || SmartOAuthHandler.TokenEndpoint.Value is not { } endpoint)
        {
            throw new HttpRequestException("The Navigator's back channel only carries the token request of a discovered launch.");
        }
        request.RequestUri = new Uri(endpoint);
        if (request.Content is FormUrlEncodedContent form)
        {
            // A public client sends no client_secret at all (RFC 6749 2.3 is for confidential clients); the library sends an empty one.
            var fields = QueryHelpers.ParseQuery("?" + await form.ReadAsStringAsync(cancellationToken));
            if (fields.TryGetValue("client_secret", out var secret) && string.IsNullOrEmpty(secret))
            {
                request.Content = new FormUrlEncodedContent(fields.Where(f => f.Key != "client_secret")
                    .Select(f => new KeyValuePair<string, string>(f.Key, f.Value.ToString())));
            }
        }
        using var invoker = new HttpMessageInvoker(handlers.CreateHandler(FhirFetcher.HttpClientName), disposeHandler: false);
        return await invoker.SendAsync(request, cancellationToken);
    }
}

/// <summary>A launch that ends on a page of its own: the status, title and message the clinician sees.</summary>
public sealed class NavigatorLaunchException(int status, string title, string message) : Exception(message)
{
    public const string NoLaunchTitle = "This sign-in does not match a launch";
    public const string NoLaunchMessage =
        "The answer from the EHR's sign-in does not belong to a launch started in this browser, was already used, or came too late.";

    public int Status { get; } = status;
    public string Title { get; } = title;
}
