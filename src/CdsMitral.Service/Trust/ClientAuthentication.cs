using System.Security.Claims;
using System.Text.Encodings.Web;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Trust;

/// <summary>
/// CDS Hooks 2.0 §Trusting CDS Clients as an ASP.NET Core authentication scheme: the caller is the EHR whose JWT
/// verifies for the URL called (<see cref="ClientVerifier"/>). Endpoints ask for it with the <see cref="ClientAuthentication.Policy"/>
/// policy; a refusal is answered, logged and audited here, and nowhere else.
/// </summary>
public sealed class ClientAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    UrlEncoder encoder,
    ClientVerifier verifier,
    IOptions<TrustOptions> trust,
    RefusalAudit refusals,
    ILogger<ClientAuthenticationHandler> logger)
    // The base class would log each failure's reason at Information under its own category: TrustLog says it once.
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (trust.Value.Mode == TrustMode.Off)
        {
            return AuthenticateResult.NoResult();
        }
        // aud is the URL the client meant to call: our configured base, never the Host header the caller chose.
        var audience = Context.PublicBaseUrl() + Request.Path;
        var result = await verifier.VerifyAsync(Request.Headers.Authorization.FirstOrDefault(), audience, Context.RequestAborted);
        if (result.Client is not { } client)
        {
            return AuthenticateResult.Fail(result.Failure!);
        }
        Context.Items[TrustRegistration.ClientKey] = client;
        var claims = new List<Claim> { new("iss", client.Issuer!), new("jti", client.Jti!) };
        if (client.Name is not null)
        {
            claims.Add(new("name", client.Name));
        }
        if (client.Tenant is not null)
        {
            claims.Add(new("tenant", client.Tenant));
        }
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, "iss", null)), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var reason = InvocationAudit.Shorten(result.Failure?.Message ?? "no bearer token", InvocationAudit.MaxRefusalReason);
        TrustLog.Rejected(logger, Request.Method, RefusalAudit.ShortPath(Context), reason);
        await refusals.RecordAsync(Context, StatusCodes.Status401Unauthorized, $"client not authenticated: {reason}");
        Response.Headers.WWWAuthenticate = "Bearer";
        await OperationOutcomes.Write(Context, StatusCodes.Status401Unauthorized, "login", "The client could not be authenticated.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        TrustLog.Forbidden(logger, Request.Method, RefusalAudit.ShortPath(Context), Context.CallingClient().Issuer ?? "(unverified)");
        await refusals.RecordAsync(Context, StatusCodes.Status403Forbidden, "client authenticated but not allowed here");
        await OperationOutcomes.Write(Context, StatusCodes.Status403Forbidden, "forbidden", "The client may not call this endpoint.");
    }
}

/// <summary>Development with CdsMitral:Trust:Mode=Off: unverified callers pass, and each call says so in the log.</summary>
public sealed class UnverifiedCallersAllowed : IAuthorizationRequirement;

public sealed class UnverifiedCallersAllowedHandler(ILogger<UnverifiedCallersAllowedHandler> logger) : AuthorizationHandler<UnverifiedCallersAllowed>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, UnverifiedCallersAllowed requirement)
    {
        if (context.Resource is HttpContext http)
        {
            TrustLog.Unverified(logger, http.Request.Method, RefusalAudit.ShortPath(http));
        }
        context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

public static class ClientAuthentication
{
    public const string Scheme = "CdsClient";

    /// <summary>The policy every /cds-services endpoint requires: a verified CDS client, or — Development with verification
    /// off — anyone, logged.</summary>
    public const string Policy = "cds-client";
}
