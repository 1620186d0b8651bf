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
        services.AddSingleton(sp => ChainKeys(sp.GetRequiredService<IOptions<AuditOptions>>().Value, sp.GetRequiredService<IHostEnvironment>()));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
            return new AuditCheckpoints(options.CheckpointFilePath, options.StoreIdentity);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
            return new AuditStore(sp.GetRequiredService<AuditDatabase>(), sp.GetRequiredService<AuditKeyring>(), sp.GetRequiredService<AuditCheckpoints>(),
                new AuditArchives(options.ArchiveFolderPath, options.StoreIdentity));
        });
        services.AddSingleton<InsightsRollup>();
        services.AddSingleton<AuditWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.AddSingleton<InMemoryReplayCache>();
        services.AddSingleton<IReplayCache>(sp => sp.GetRequiredService<IOptions<AuditOptions>>().Value.Store == AuditStoreKind.PostgreSql
            ? new StoreReplayCache(sp.GetRequiredService<AuditStore>(), sp.GetRequiredService<InMemoryReplayCache>(), sp.GetRequiredService<ILogger<StoreReplayCache>>())
            : sp.GetRequiredService<InMemoryReplayCache>());
        services.AddSingleton<InvocationAudit>();
        services.AddAuditorAuthentication();
        return services;
    }

    /// <summary>Development and the tests may have a key made for them; everywhere else the settings must name one.</summary>
    public static bool MayGenerateChainKey(IHostEnvironment environment) => environment.IsDevelopment() || environment.IsEnvironment("Testing");

    private static AuditKeyring ChainKeys(AuditOptions options, IHostEnvironment environment)
    {
        if (options.Store == AuditStoreKind.None)
        {
            return AuditKeyring.Ephemeral(); // nothing is written: nothing to sign
        }
        var (keyring, errors, _) = AuditKeyring.Load(options, MayGenerateChainKey(environment), generate: true);
        // The validator has said the same at start-up; this is only reached if the file changed since.
        return keyring ?? throw new OptionsValidationException(AuditOptions.Section, typeof(AuditOptions), errors);
    }
}

public sealed class AuditOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuditOptions>
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
        if (options.FullVerifyInterval < TimeSpan.Zero || options.FullVerifyInterval > TimeSpan.FromDays(365))
        {
            errors.Add("CdsMitral:Audit:FullVerifyInterval must be between 00:00:00 (never) and 365.00:00:00.");
        }
        if (options.CheckpointInterval < TimeSpan.FromSeconds(0.1) || options.CheckpointInterval > TimeSpan.FromDays(1))
        {
            errors.Add("CdsMitral:Audit:CheckpointInterval must be between 00:00:00.1 and 1.00:00:00.");
        }
        if (options.Store != AuditStoreKind.None)
        {
            errors.AddRange(AuditKeyring.Load(options, AuditRegistration.MayGenerateChainKey(environment), generate: false).Errors);
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
