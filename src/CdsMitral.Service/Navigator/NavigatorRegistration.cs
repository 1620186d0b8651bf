using CdsMitral.Service.Audit;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

public static class NavigatorRegistration
{
    public static IServiceCollection AddNavigator(this IServiceCollection services)
    {
        services.AddOptions<NavigatorOptions>().BindConfiguration(NavigatorOptions.Section)
            .Validate<IOptions<AuditOptions>>((navigator, audit) => navigator.SessionStore != NavigatorSessionStoreKind.Database || audit.Value.Store != AuditStoreKind.None,
                "CdsMitral:Navigator:SessionStore is Database, but CdsMitral:Audit:Store is None: the sessions live beside the audit chain.")
            .Validate(navigator => navigator.FrameAncestors.All(a => NavigatorOptions.FrameAncestorProblem(a) is null),
                "CdsMitral:Navigator:FrameAncestors takes bare origins only (https://ehr.example.org, or http on a loopback host): no wildcard, path or query.")
            .ValidateOnStart();
        services.AddSingleton<NavigatorSessions>();
        services.AddSingleton<NavigatorSessionStore>();
        // Instances that share sessions must share the keys that protect them (and the OAuth state and antiforgery tokens).
        services.AddDataProtection();
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<NavigatorOptions>, ILoggerFactory>((keys, navigator, loggers) =>
        {
            if (!string.IsNullOrWhiteSpace(navigator.Value.DataProtectionKeys))
            {
                keys.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(navigator.Value.DataProtectionKeys), loggers);
            }
        });
        services.AddOptions<DataProtectionOptions>().Configure<IOptions<NavigatorOptions>>((protection, navigator) =>
        {
            if (!string.IsNullOrWhiteSpace(navigator.Value.DataProtectionKeys))
            {
                // Not the content root, which differs between hosts: every instance on these keys is the same application.
                protection.ApplicationDiscriminator = "CdsMitral";
            }
        });
        services.AddSingleton<NavigatorIssuers>();
        services.AddTransient<SmartDiscovery>();
        services.AddAntiforgery();
        services.AddNavigatorSessionAuthentication();
        services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>().Configure<IOptions<NavigatorOptions>>((o, navigator) =>
        {
            o.Cookie.Name = "cdsmitral-nav-af";
            NavigatorCookie(o.Cookie, navigator.Value, SameSiteMode.Strict);
        });
        services.AddAuthentication().AddOAuth<SmartOAuthOptions, SmartOAuthHandler>(SmartOAuthHandler.SchemeName, _ => { });
        services.AddOptions<SmartOAuthOptions>(SmartOAuthHandler.SchemeName).Configure<IOptions<NavigatorOptions>, IHttpMessageHandlerFactory>((o, navigator, handlers) =>
        {
            o.ClientId = navigator.Value.ClientId;
            o.ClientSecret = navigator.Value.ClientSecret!;
            o.CallbackPath = NavigatorEndpoints.CallbackPath;
            // Each launch brings its own endpoints (SmartOAuthHandler); these only satisfy the library's checks.
            o.AuthorizationEndpoint = SmartOAuthHandler.AuthorizePlaceholder;
            o.TokenEndpoint = SmartOAuthHandler.TokenPlaceholder;
            o.UsePkce = true;
            o.SaveTokens = false;
            foreach (var scope in navigator.Value.ReadAndWriteScope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                o.Scope.Add(scope);
            }
            o.RemoteAuthenticationTimeout = navigator.Value.LaunchLifetime;
            o.CorrelationCookie.Name = "cdsmitral-nav-corr.";
            // The authorization server sends the browser back with a top-level GET: Lax is enough.
            NavigatorCookie(o.CorrelationCookie, navigator.Value, SameSiteMode.Lax);
            // The handler's clock only dates the correlation cookie, which the browser expires by its own (real) clock;
            // the launch's lifetime on this server is NavigatorSessions', on the injected TimeProvider.
            o.TimeProvider = TimeProvider.System;
            o.Backchannel = new HttpClient(new SmartBackchannel(handlers)) { Timeout = TimeSpan.FromSeconds(10) };
            o.Events.OnRemoteFailure = NavigatorEndpoints.LaunchFailedAsync;
            o.Events.OnTicketReceived = NavigatorEndpoints.LaunchSucceededAsync;
        });
        // In front of every logging provider: the callback's code and state must reach no log line.
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RedactingLoggerFactory(ActivatorUtilities.CreateInstance<LoggerFactory>(sp))));
        return services;
    }

    public static WebApplication MapNavigator(this WebApplication app)
    {
        app.MapNavigatorEndpoints();
        return app;
    }

    /// <summary>Every Navigator cookie: HttpOnly, on /navigator only, Secure on https, with <paramref name="sameSite"/>.
    /// Inside an EHR's frame the Navigator is a third party: then SameSite=None (so Secure), and Partitioned, so a browser
    /// that blocks third-party cookies still keeps them, for that EHR's site only.</summary>
    internal static void NavigatorCookie(CookieBuilder cookie, NavigatorOptions navigator, SameSiteMode sameSite)
    {
        cookie.Path = "/navigator";
        cookie.HttpOnly = true;
        cookie.SameSite = sameSite;
        cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        if (navigator.Framed)
        {
            cookie.SameSite = SameSiteMode.None;
            cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Extensions.Add("Partitioned");
        }
    }
}
