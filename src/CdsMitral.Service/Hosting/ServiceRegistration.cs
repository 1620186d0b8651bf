using CdsMitral.Cards;
using CdsMitral.Content;
using CdsMitral.Hooks;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hooks;
using CdsMitral.Snapshot;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Hosting;
using Serilog.Formatting.Json;

namespace CdsMitral.Service.Hosting;

public static class ServiceRegistration
{
    /// <summary>Serilog, structured JSON on the console, one object per line. Levels come from the usual "Logging" section.</summary>
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        // Serilog's provider registers its own Trace-level filter, which outranks "Logging:LogLevel";
        // so the same section is read here and applied as Serilog levels.
        var configuration = new LoggerConfiguration().MinimumLevel.Information();
        foreach (var level in builder.Configuration.GetSection("Logging:LogLevel").GetChildren())
        {
            if (Enum.TryParse<LogLevel>(level.Value, ignoreCase: true, out var parsed))
            {
                var serilogLevel = parsed switch
                {
                    LogLevel.Trace => LogEventLevel.Verbose,
                    LogLevel.Debug => LogEventLevel.Debug,
                    LogLevel.Information => LogEventLevel.Information,
                    LogLevel.Warning => LogEventLevel.Warning,
                    LogLevel.Error => LogEventLevel.Error,
                    _ => LogEventLevel.Fatal,
                };
                configuration = level.Key == "Default"
                    ? configuration.MinimumLevel.Is(serilogLevel)
                    : configuration.MinimumLevel.Override(level.Key, serilogLevel);
            }
        }
        var serilog = configuration
            .Enrich.FromLogContext()
            .Enrich.With<BoundedRequestPath>()
            .WriteTo.Console(new JsonFormatter(renderMessage: true))
            .CreateLogger();
        // A provider beside any other (the tests add theirs), rather than Serilog's own logger factory in their place.
        builder.Logging.AddSerilog(serilog, dispose: true);
        // What request logging (UseRequestLogging) needs: the logger it writes to, and the context a request may enrich.
        builder.Services.AddSingleton<Serilog.ILogger>(serilog);
        builder.Services.AddSingleton(new DiagnosticContext(serilog));
        builder.Services.AddSingleton<IDiagnosticContext>(sp => sp.GetRequiredService<DiagnosticContext>());
        return builder;
    }

    /// <summary>One line per request: method, path (never its query string, which may carry a launch code), status and
    /// time. Health probes log at Debug, so that a load balancer's polling does not fill the log; 5xx at Error.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod:l} {RequestPath:l} answered {StatusCode} in {Elapsed:0.0} ms";
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (http, _, error) =>
                error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
                : http.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }

    public static IServiceCollection AddCdsMitral(this IServiceCollection services)
    {
        // Kestrel cuts bodies at the same limit the hook handler enforces (the handler's check also covers test hosts).
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>().Configure<IOptions<CdsMitralOptions>>((kestrel, options) =>
            kestrel.Limits.MaxRequestBodySize = options.Value.MaxRequestBodyBytes);
        services.AddOptions<CdsMitralOptions>().BindConfiguration(CdsMitralOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CdsMitralOptions>, CdsMitralOptionsValidator>();
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton(Terminology.Terminology.Embedded);
        services.AddSingleton(ContentCatalog.Embedded);
        // The HTML pages are Razor components rendered to a string (static, no script): Razor encodes what they show.
        services.AddSingleton(PageRenderer.Default);
        services.AddSingleton(sp => new CdsServiceRegistry(CdsServices.All(sp.GetRequiredService<Terminology.Terminology>())));
        services.AddSingleton(sp => new SnapshotBuilder(sp.GetRequiredService<Terminology.Terminology>(),
            new ClinicalOptions(sp.GetRequiredService<IOptions<CdsMitralOptions>>().Value.StaleAfterMonths)));
        services.AddSingleton<CardBuilder>();
        services.AddSingleton<HookEvaluation>();
        services.AddOptions<RuleModeOptions>().BindConfiguration(RuleModeOptions.Section);
        services.AddSingleton<RuleModes>();

        services.AddSingleton<FhirResilience>();
        // The FHIR server patterns are parsed at start-up (a malformed one stops the service), beside the client they guard.
        services.TryAddEnumerable(Microsoft.Extensions.DependencyInjection.ServiceDescriptor.Singleton<IValidateOptions<Trust.TrustOptions>, Trust.FhirServerPatternsValidator>());
        services.AddHttpClient<FhirFetcher>(FhirFetcher.HttpClientName)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // A FHIR server must not bounce the service (and the bearer token) to another host.
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(2),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // The address is checked where the socket connects; through a proxy it would be the proxy's.
                UseProxy = false,
                ConnectCallback = new Trust.FhirServerConnector(sp.GetRequiredService<Trust.FhirServerPolicy>(),
                    sp.GetService<Func<string, CancellationToken, Task<System.Net.IPAddress[]>>>()).ConnectAsync,
            });
        services.AddTransient<InputGatherer>();
        services.AddTransient<HookHandler>();
        return services;
    }
}
