using CdsMitral.Service.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Service.Trust;

public static class TrustRegistration
{
    internal const string ClientKey = "cdsmitral.client";

    /// <summary>The client the authentication handler verified for this call, or <see cref="Trust.CallingClient.Unverified"/>.</summary>
    public static CallingClient CallingClient(this HttpContext http) =>
        http.Items.TryGetValue(ClientKey, out var c) && c is CallingClient client ? client : Trust.CallingClient.Unverified;

    public static IServiceCollection AddClientTrust(this IServiceCollection services)
    {
        services.AddOptions<TrustOptions>().BindConfiguration(TrustOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustOptions>, TrustOptionsValidator>();
        services.AddSingleton<IValidateOptions<CdsMitralOptions>, PublicBaseUrlValidator>();
        services.AddSingleton<PublicBase>();
        services.AddSingleton<IReplayCache, InMemoryReplayCache>();
        services.AddSingleton<ClientVerifier>();
        services.AddSingleton<FhirServerPolicy>();
        services.AddSingleton<RefusalAudit>();
        services.AddHttpContextAccessor();
        services.AddHttpClient(JwksCache.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(2) });
        // One cache for the process: a typed (transient) client would forget every JWK Set it fetched.
        services.AddSingleton(sp => new JwksCache(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(JwksCache.HttpClientName),
            sp.GetRequiredService<IOptions<TrustOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JwksCache>>()));

        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ClientAuthenticationHandler>(ClientAuthentication.Scheme, null);
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationHandler, UnverifiedCallersAllowedHandler>();
        // Read when the policy is first needed, so that a test host's or deployment's configuration counts.
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<TrustOptions>>((authorization, trust) =>
            authorization.AddPolicy(ClientAuthentication.Policy, policy =>
            {
                policy.AddAuthenticationSchemes(ClientAuthentication.Scheme);
                if (trust.Value.Mode == TrustMode.Off)
                {
                    policy.AddRequirements(new UnverifiedCallersAllowed());
                }
                else
                {
                    policy.RequireAuthenticatedUser();
                }
            }));
        return services;
    }

    /// <summary>Authenticates the callers of endpoints that require <see cref="ClientAuthentication.Policy"/> before the
    /// rate limiter, which partitions by who called: a verified EHR keeps its own budget, and unverified callers share
    /// their address's. The requirement itself is declared where the endpoints are mapped (MapCdsServices).</summary>
    public static WebApplication UseClientTrust(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TrustOptions>>().Value.Mode == TrustMode.Off)
        {
            TrustLog.VerificationOffAtStartup(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CdsMitral.Trust"));
        }
        app.UseAuthentication();
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(d => d.Policy == ClientAuthentication.Policy) == true)
            {
                // The handler keeps its result for the request: authorization asks again and gets the same answer.
                var result = await http.AuthenticateAsync(ClientAuthentication.Scheme);
                if (result.Succeeded)
                {
                    http.User = result.Principal;
                }
            }
            await next(http);
        });
        return app;
    }
}

/// <summary>Start-up checks: a wrong trust setting stops the service with a sentence, not a stack trace on first call.</summary>
public sealed class TrustOptionsValidator(IHostEnvironment environment, IConfiguration configuration) : IValidateOptions<TrustOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(configuration[$"{CdsMitralOptions.Section}:{nameof(CdsMitralOptions.PublicBaseUrl)}"]) && !environment.IsDevelopment())
        {
            // Without it the expected aud would have to come from the Host header, which the caller chooses.
            errors.Add($"CdsMitral:PublicBaseUrl is not set: outside Development (this is '{environment.EnvironmentName}') it must be the URL clients call, e.g. https://cds.hospital.example, since JWT audiences and card links are built from it, never from a request's Host header.");
        }
        if (options.Mode == TrustMode.Off && !environment.IsDevelopment())
        {
            errors.Add($"CdsMitral:Trust:Mode=Off turns client authentication off and is allowed only in the Development environment (this is '{environment.EnvironmentName}').");
        }
        foreach (var (client, i) in options.Clients.Select((c, i) => (c, i)))
        {
            var at = $"CdsMitral:Trust:Clients:{i}";
            if (string.IsNullOrWhiteSpace(client.Issuer))
            {
                errors.Add($"{at}:Issuer is empty.");
            }
            if (client.JwksUrls.Count == 0 && client.JwksFile is null && client.Jwks is null)
            {
                errors.Add($"{at} ({client.Issuer}) has no keys: give JwksUrls, JwksFile or Jwks.");
            }
            errors.AddRange(client.JwksUrls.Where(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                .Select(u => $"{at}:JwksUrls has '{u}', which is not an http(s) URL."));
            if (client.JwksFilePath is { } file && !File.Exists(file))
            {
                errors.Add($"{at}:JwksFile '{client.JwksFile}' does not exist (looked for {file}).");
            }
            foreach (var (label, json) in new[] { ("Jwks", client.Jwks), ("JwksFile", client.JwksFilePath is { } f && File.Exists(f) ? File.ReadAllText(f) : null) })
            {
                if (json is null)
                {
                    continue;
                }
                try
                {
                    if (new JsonWebKeySet(json).Keys.Count == 0)
                    {
                        errors.Add($"{at}:{label} holds no keys.");
                    }
                }
                catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException)
                {
                    errors.Add($"{at}:{label} is not a JWK Set.");
                }
            }
            // A * may stand in a host label or a port: check the shape with a digit in its place.
            errors.AddRange(client.FhirServers.Where(p => !Uri.TryCreate(p.Replace("*", "0", StringComparison.Ordinal), UriKind.Absolute, out _))
                .Select(p => $"{at}:FhirServers has '{p}', which is not a base URL."));
        }
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            errors.Add("CdsMitral:Trust:ClockSkew must be between 0 and 5 minutes.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
