using CdsMitral.Service.Trust;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Audit;

public static class AuditRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        services.AddSingleton<AuditDatabase>();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AuditWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.AddSingleton<InMemoryReplayCache>();
        services.AddSingleton<IReplayCache>(sp => sp.GetRequiredService<IOptions<AuditOptions>>().Value.Store == AuditStoreKind.PostgreSql
            ? new StoreReplayCache(sp.GetRequiredService<AuditStore>(), sp.GetRequiredService<InMemoryReplayCache>(), sp.GetRequiredService<ILogger<StoreReplayCache>>())
            : sp.GetRequiredService<InMemoryReplayCache>());
        services.AddSingleton<InvocationAudit>();
        services.AddSingleton<AuditorSignIn>();
        return services;
    }
}

public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var errors = new List<string>();
        if (options.Store != AuditStoreKind.None && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add("CdsMitral:Audit:ConnectionString is empty.");
        }
        if (options.MaxBatch is < 1 or > 10_000)
        {
            errors.Add("CdsMitral:Audit:MaxBatch must be between 1 and 10000.");
        }
        if (options.RetentionDays < 0)
        {
            errors.Add("CdsMitral:Audit:RetentionDays cannot be negative (0 keeps everything).");
        }
        foreach (var (auditor, i) in options.Auditors.Select((a, i) => (a, i)))
        {
            if (string.IsNullOrWhiteSpace(auditor.User) || !AuditorPasswords.IsWellFormed(auditor.PasswordHash))
            {
                errors.Add($"CdsMitral:Audit:Auditors:{i} needs a User and a PasswordHash of the form pbkdf2-sha256$iterations$salt$hash.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
