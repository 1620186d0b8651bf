using CdsMitral.Service.Audit;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Feedback;

/// <summary>Settings under "CdsMitral:Fatigue": how long a card stands back after feedback, and how many cards an answer holds.</summary>
public sealed class FatigueOptions
{
    public const string Section = "CdsMitral:Fatigue";

    /// <summary>Per override reason code: how long the same rule, for the same patient, with the same inputs, stands back
    /// after a card was overridden for that reason. Reasons not named here (or 00:00:00) stand nothing back. Only the reasons
    /// that mean "already handled" are in the defaults.</summary>
    public Dictionary<string, TimeSpan> StandBack { get; set; } = new(StringComparer.Ordinal)
    {
        ["already-evaluated-hvt"] = TimeSpan.FromDays(180),
        ["patient-refuses"] = TimeSpan.FromDays(90),
        ["gdmt-max-tolerated"] = TimeSpan.FromDays(90),
    };

    /// <summary>How long a card whose suggestion was accepted stands back (same rule, patient and inputs). 00:00:00: never.</summary>
    public TimeSpan StandBackAfterAccepted { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The most cards one answer holds; the rest are left out by indicator, then rule precedence, and named in the
    /// audit. 3 leaves every sample's cards as they are (the most any gives is 2).</summary>
    public int MaxCardsPerAnswer { get; set; } = 3;

    /// <summary>The most items one feedback request may carry; a longer one is refused whole with 413. Each item is an audit
    /// event, and each also counts against the client's budget of calls (CdsMitral:Callers:PermitLimit per Window).</summary>
    public int MaxFeedbackItems { get; set; } = 50;
}

public sealed class FatigueOptionsValidator : IValidateOptions<FatigueOptions>
{
    public ValidateOptionsResult Validate(string? name, FatigueOptions options)
    {
        var errors = new List<string>();
        foreach (var (reason, time) in options.StandBack)
        {
            if (time < TimeSpan.Zero || time > TimeSpan.FromDays(3650))
            {
                errors.Add($"{FatigueOptions.Section}:StandBack:{reason} must be between 00:00:00 and 3650.00:00:00.");
            }
        }
        if (options.StandBackAfterAccepted < TimeSpan.Zero || options.StandBackAfterAccepted > TimeSpan.FromDays(3650))
        {
            errors.Add($"{FatigueOptions.Section}:StandBackAfterAccepted must be between 00:00:00 and 3650.00:00:00.");
        }
        if (options.MaxCardsPerAnswer is < 1 or > 50)
        {
            errors.Add($"{FatigueOptions.Section}:MaxCardsPerAnswer must be between 1 and 50.");
        }
        if (options.MaxFeedbackItems is < 1 or > 1000)
        {
            errors.Add($"{FatigueOptions.Section}:MaxFeedbackItems must be between 1 and 1000.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class FeedbackRegistration
{
    /// <summary>Feedback that counts: stand-back times, the card limit, and the shared suppressions table.</summary>
    public static IServiceCollection AddFeedback(this IServiceCollection services)
    {
        services.AddOptions<FatigueOptions>().BindConfiguration(FatigueOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FatigueOptions>, FatigueOptionsValidator>();
        services.AddSingleton<SuppressionStore>();
        // Keeps the stand-backs held in memory current: re-read every 30 s, and on PostgreSQL when any instance changes
        // them (registered after the audit writer, which migrates the schema).
        services.AddHostedService(provider => provider.GetRequiredService<SuppressionStore>());
        services.AddSingleton<StandBack>();
        return services;
    }
}
