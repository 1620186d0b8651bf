using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

/// <summary>A wrong setting stops the service with sentences saying which and why — not a stack trace.</summary>
public static class StartupErrors
{
    public static void Install() => AppDomain.CurrentDomain.UnhandledException += (_, e) =>
    {
        if (e.ExceptionObject is not Exception exception || Find(exception) is not { } invalid)
        {
            return; // anything else is a bug, and its stack trace is what a developer needs
        }
        Console.Error.WriteLine("CdsMitral cannot start: its settings are not valid.");
        foreach (var failure in invalid.Failures)
        {
            Console.Error.WriteLine($"  - {failure}");
        }
        Console.Error.WriteLine("Settings are described in docs/configuration.md.");
        Environment.Exit(1);
    };

    /// <summary>Reads every settings section once, right after the host is built, so that a wrong setting stops the
    /// service before anything starts — the same way every time — rather than part-way through start-up.</summary>
    public static WebApplication ValidateSettings(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<IOptions<CdsMitralOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<Trust.TrustOptions>>().Value;
        _ = app.Services.GetRequiredService<IOptions<Audit.AuditOptions>>().Value;
        _ = app.Services.GetRequiredService<Hooks.RuleModes>();
        return app;
    }

    private static OptionsValidationException? Find(Exception? e) => e switch
    {
        null => null,
        OptionsValidationException v => v,
        AggregateException a => a.InnerExceptions.Select(Find).FirstOrDefault(v => v is not null),
        _ => Find(e.InnerException),
    };
}
