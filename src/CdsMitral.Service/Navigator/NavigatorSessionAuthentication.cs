using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

/// <summary>
/// A Navigator session as an authentication scheme: the request's cookie names a session this service holds (the token
/// and chart stay on the server). The pages after the launch require <see cref="Policy"/> where they are mapped; without
/// a session the answer is the Navigator's 401 page.
/// </summary>
public static class NavigatorSessionAuthentication
{
    public const string Scheme = "NavigatorSession";
    public const string Policy = "navigator-session";

    public static IServiceCollection AddNavigatorSessionAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, NavigatorSessionHandler>(Scheme, null);
        services.AddAuthorization(o => o.AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser()));
        return services;
    }

    /// <summary>The session the request was authenticated with (only on endpoints that require <see cref="Policy"/>).</summary>
    public static NavigatorSession NavigatorSession(this HttpContext http) =>
        http.Items[typeof(NavigatorSession)] as NavigatorSession ?? throw new InvalidOperationException("This endpoint does not require a Navigator session.");
}

public sealed class NavigatorSessionHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (await NavigatorEndpoints.SessionAsync(Context) is not { } session)
        {
            return AuthenticateResult.NoResult();
        }
        Context.Items[typeof(NavigatorSession)] = session;
        // "sub" is the session: the antiforgery tokens its pages are given are bound to it, not only to the browser.
        var identity = new ClaimsIdentity([new Claim("sub", session.Id.ToString())], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        NavigatorEndpoints.NoSession(Context).ExecuteAsync(Context);
}

/// <summary>Finding the session a request names.</summary>
public static partial class NavigatorEndpoints
{
    /// <summary>The session the cookie names; a stored one this instance has not served yet has its chart read again
    /// with its own token, exactly as at the launch.</summary>
    internal static Task<NavigatorSession?> SessionAsync(HttpContext http) =>
        http.RequestServices.GetRequiredService<NavigatorSessions>().FindAsync(http.Request.Cookies[SessionCookie], async record =>
            await ReadChartAsync(http, record.Iss, record.PatientId, record.AccessToken, record.Scope, record.User, record.Expires) is { Snapshot: { } snapshot } ? snapshot : null,
            http.RequestAborted);

    internal static IResult NoSession(HttpContext http) =>
        Problem(http, 401, "No Navigator session", "This Navigator session has ended or was never started in this browser.");
}
