using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using CdsMitral.Service.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Audit;

/// <summary>
/// The auditors' HTTP Basic sign-in (<see cref="AuditorSignIn"/>) as an authentication scheme, so that /audit declares
/// its protection where it is mapped: <c>RequireAuthorization(AuditorAuthentication.Policy)</c>. Never a CDS client's JWT.
/// </summary>
public static class AuditorAuthentication
{
    public const string Scheme = "Auditor";
    public const string Policy = "auditor";

    public static IServiceCollection AddAuditorAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<AuditorSignIn>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AuditorAuthenticationHandler>(Scheme, null);
        services.AddAuthorization(o => o.AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser()));
        return services;
    }
}

/// <summary>Signs an auditor in for one request; a refusal says why: 401 with a Basic challenge, or 429/503 with Retry-After
/// while sign-ins from that address or for that name wait, or too many are being checked at once.</summary>
public sealed class AuditorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    UrlEncoder encoder,
    AuditorSignIn signIn,
    IOptions<AuditOptions> audit)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    private SignInResult _result;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        _result = await signIn.CheckAsync(Context);
        return _result.Outcome == SignInOutcome.SignedIn
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(Scheme.Name)), Scheme.Name))
            : AuthenticateResult.Fail(_result.Outcome.ToString());
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await HandleAuthenticateOnceSafeAsync();
        if (_result.Outcome is SignInOutcome.Throttled or SignInOutcome.Busy)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(_result.RetryAfter.TotalSeconds));
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await OperationOutcomes.Write(Context, _result.Outcome == SignInOutcome.Throttled ? 429 : 503,
                _result.Outcome == SignInOutcome.Throttled ? "throttled" : "transient",
                _result.Outcome == SignInOutcome.Throttled
                    ? $"Too many sign-in attempts from this address or for this user; retry after {seconds} s."
                    : $"Too many sign-ins are being checked at once; retry after {seconds} s.");
            return;
        }
        Response.Headers.WWWAuthenticate = "Basic realm=\"CdsMitral audit\", charset=\"UTF-8\"";
        await OperationOutcomes.Write(Context, 401, "login", audit.Value.Auditors.Count == 0
            ? "No auditors are configured (CdsMitral:Audit:Auditors)."
            : "Auditor credentials are required.");
    }
}
