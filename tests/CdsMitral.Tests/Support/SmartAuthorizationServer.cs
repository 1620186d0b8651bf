using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace CdsMitral.Tests.Support;

/// <summary>
/// An EHR's SMART authorization server: OpenIddict's real server on loopback Kestrel (authorization code, PKCE required,
/// degraded mode: no store, the one client checked by inline handlers). It signs the clinician in without a screen,
/// or declines when told to, and puts the launch context beside the token, as SMART App Launch does: the EHR registers
/// a launch (<see cref="RegisterLaunch"/>) with its patient and the card's <c>appContext</c>, the authorize request names
/// it, the authorization code carries it, and the token response returns <c>patient</c>, <c>encounter</c>,
/// <c>need_patient_banner</c> and <c>appContext</c>.
/// </summary>
public sealed class SmartAuthorizationServer : IAsyncDisposable
{
    public const string ClientId = "cdsmitral-navigator";
    public const string User = "Practitioner/dr-navigator";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _issued = new();
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string?>> _authorizeRequests = new();
    private readonly ConcurrentDictionary<string, LaunchContext> _launches = new(StringComparer.Ordinal);

    // The launch context rides in the authorization code as claims that go into no token.
    private const string PatientClaim = "smart_patient";
    private const string EncounterClaim = "smart_encounter";
    private const string AppContextClaim = "smart_app_context";

    private SmartAuthorizationServer(string redirectUri, string[] scopes)
    {
        RedirectUri = redirectUri;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
            o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
            o.RegisterScopes(scopes);
            o.AddEphemeralEncryptionKey().AddEphemeralSigningKey().DisableAccessTokenEncryption();
            o.EnableDegradedMode();
            o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            o.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId || context.RedirectUri != RedirectUri)
                {
                    context.Reject(Errors.InvalidRequest, "Unknown client or redirect_uri.");
                }
                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ClientId)
                {
                    context.Reject(Errors.InvalidClient, "Unknown client.");
                }
                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.ProcessSignInContext>(b => b.UseInlineHandler(context =>
            {
                if (context.EndpointType == OpenIddictServerEndpointType.Token && context.Principal is { } principal)
                {
                    context.Parameters["patient"] = principal.GetClaim(PatientClaim);
                    context.Parameters["need_patient_banner"] = NeedPatientBanner;
                    if (principal.GetClaim(EncounterClaim) is { } encounter)
                    {
                        context.Parameters["encounter"] = encounter;
                    }
                    if (principal.GetClaim(AppContextClaim) is { } appContext)
                    {
                        context.Parameters["appContext"] = appContext;
                    }
                }
                return default;
            }));
            o.AddEventHandler<OpenIddictServerEvents.ApplyTokenResponseContext>(b => b.UseInlineHandler(context =>
            {
                if (context.Response.AccessToken is { } token)
                {
                    _issued.Enqueue(token);
                }
                return default;
            }));
        });
        _app = builder.Build();
        _app.MapGet("/connect/authorize", (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest()!;
            _authorizeRequests.Enqueue(request.GetParameters().ToDictionary(p => p.Key, p => (string?)p.Value));
            if (Decline)
            {
                return Results.Forbid(authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            if (RefusedScopes.Intersect(request.GetScopes()).Any())
            {
                // As RFC 6749 4.1.2.1 has it, and as an EHR that will not grant a scope (rather than grant fewer) does.
                return Results.Forbid(new Microsoft.AspNetCore.Authentication.AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidScope,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The EHR does not grant these scopes.",
                }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
            }
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, User).SetClaim("fhirUser", User);
            // A launch the EHR registered brings its own context; any other (or a standalone launch) gets the default patient.
            var context = (string?)request["launch"] is { } launch && _launches.TryGetValue(launch, out var registered) ? registered : new LaunchContext(Patient, null, AppContext);
            identity.SetClaim(PatientClaim, context.Patient).SetClaim(EncounterClaim, context.Encounter).SetClaim(AppContextClaim, context.AppContext);
            identity.SetScopes(GrantedScopes ?? request.GetScopes());
            identity.SetDestinations(claim => claim.Type is PatientClaim or EncounterClaim or AppContextClaim ? [] : [Destinations.AccessToken, Destinations.IdentityToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>The one redirect_uri registered for the client.</summary>
    public string RedirectUri { get; set; }

    /// <summary>The patient the launch puts in context.</summary>
    public string Patient { get; set; } = "p1";

    /// <summary>The appContext of a launch that was not registered.</summary>
    public string? AppContext { get; set; }

    /// <summary>What the EHR knows of a launch it started: the patient, the encounter and the link's appContext.</summary>
    public sealed record LaunchContext(string Patient, string? Encounter, string? AppContext);

    /// <summary>The EHR starts a launch from a card's SMART link: this id, in this context.</summary>
    public void RegisterLaunch(string launch, LaunchContext context) => _launches[launch] = context;

    /// <summary>SMART need_patient_banner in the token response: false for an EHR that shows the patient around the app.</summary>
    public bool NeedPatientBanner { get; set; } = true;

    /// <summary>The clinician declines at the consent screen.</summary>
    public bool Decline { get; set; }

    /// <summary>Scopes this server refuses outright: a request that names one gets <c>invalid_scope</c>, not fewer scopes.</summary>
    public IReadOnlyList<string> RefusedScopes { get; set; } = [];

    /// <summary>Fewer scopes than asked for, when set.</summary>
    public IReadOnlyList<string>? GrantedScopes { get; set; }

    public IReadOnlyList<string> IssuedTokens => _issued.ToList();

    public IReadOnlyList<IReadOnlyDictionary<string, string?>> AuthorizeRequests => _authorizeRequests.ToList();

    /// <summary>The smart-configuration document the FHIR server publishes for this authorization server.</summary>
    public System.Text.Json.Nodes.JsonObject SmartConfiguration() => new()
    {
        ["authorization_endpoint"] = BaseUrl + "/connect/authorize",
        ["token_endpoint"] = BaseUrl + "/connect/token",
        ["code_challenge_methods_supported"] = new System.Text.Json.Nodes.JsonArray("S256"),
        ["capabilities"] = new System.Text.Json.Nodes.JsonArray("launch-ehr", "launch-standalone", "client-public", "context-ehr-patient", "permission-v2"),
    };

    public static async Task<SmartAuthorizationServer> StartAsync(string redirectUri, string scope)
    {
        var server = new SmartAuthorizationServer(redirectUri, scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
