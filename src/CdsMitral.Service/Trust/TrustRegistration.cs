using CdsMitral.Service.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Service.Trust;

public static class TrustRegistration
{
    private const string ClientKey = "cdsmitral.client";

    public static CallingClient CallingClient(this HttpContext http) =>
        http.Items.TryGetValue(ClientKey, out var c) && c is CallingClient client ? client : Trust.CallingClient.Unverified;

    /// <summary>A refused hook call is an invocation too: the audit keeps it, with the reason (never the token).</summary>
    private static async Task RecordRefusedHook(HttpContext http, string reason)
    {
        var segments = http.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!HttpMethods.IsPost(http.Request.Method) || segments.Length != 2)
        {
            return; // discovery and feedback refusals are in the log only
        }
        var audit = http.RequestServices.GetRequiredService<Audit.InvocationAudit>();
        var draft = new Audit.InvocationDraft(segments[1], http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
        await audit.RecordAsync(draft, Trust.CallingClient.Unverified, StatusCodes.Status401Unauthorized, $"client not authenticated: {reason}", 0);
    }

    public static IServiceCollection AddClientTrust(this IServiceCollection services)
    {
        services.AddOptions<TrustOptions>().BindConfiguration(TrustOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustOptions>, TrustOptionsValidator>();
        services.AddSingleton<IReplayCache, InMemoryReplayCache>();
        services.AddSingleton<ClientVerifier>();
        services.AddSingleton<FhirServerPolicy>();
        services.AddHttpClient(JwksCache.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(2) });
        // One cache for the process: a typed (transient) client would forget every JWK Set it fetched.
        services.AddSingleton(sp => new JwksCache(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(JwksCache.HttpClientName),
            sp.GetRequiredService<IOptions<TrustOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JwksCache>>()));
        return services;
    }

    /// <summary>Every call under /cds-services (discovery, services, feedback) must present a valid client JWT.
    /// CORS preflights pass: browsers send them without credentials.</summary>
    public static WebApplication UseClientTrust(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TrustOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CdsMitral.Trust");
        if (options.Mode == TrustMode.Off)
        {
            TrustLog.VerificationOffAtStartup(logger);
        }
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/cds-services") && !HttpMethods.IsOptions(http.Request.Method), branch => branch.Use(async (http, next) =>
        {
            if (options.Mode == TrustMode.Off)
            {
                TrustLog.Unverified(logger, http.Request.Method, http.Request.Path);
                await next(http);
                return;
            }
            var audience = http.PublicBaseUrl() + http.Request.Path;
            var verifier = http.RequestServices.GetRequiredService<ClientVerifier>();
            var result = await verifier.VerifyAsync(http.Request.Headers.Authorization.FirstOrDefault(), audience, http.RequestAborted);
            if (result.Client is null)
            {
                TrustLog.Rejected(logger, http.Request.Method, http.Request.Path, result.Failure!);
                await RecordRefusedHook(http, result.Failure!);
                http.Response.Headers.WWWAuthenticate = "Bearer";
                await OperationOutcomes.Write(http, StatusCodes.Status401Unauthorized, "login", "The client could not be authenticated.");
                return;
            }
            http.Items[ClientKey] = result.Client;
            await next(http);
        }));
        return app;
    }
}

/// <summary>Start-up checks: a wrong trust setting stops the service with a sentence, not a stack trace on first call.</summary>
public sealed class TrustOptionsValidator(IHostEnvironment environment) : IValidateOptions<TrustOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var errors = new List<string>();
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
