using System.Text.RegularExpressions;
using CdsMitral.Rules;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hooks;

/// <summary>Settings under "CdsMitral:Rules": how each rule runs. <see cref="Modes"/> maps a rule id ("smr-coapt-profile")
/// or one version of it ("smr-coapt-profile@2.1.0") to <c>live</c>, <c>silent</c> or <c>off</c>; a version's entry wins
/// over the rule's, and a rule named nowhere runs live. Read on every call, so a changed file takes effect without a restart.</summary>
public sealed partial class RuleModeOptions
{
    public const string Section = "CdsMitral:Rules";

    public Dictionary<string, string> Modes { get; set; } = new(StringComparer.Ordinal);

    [GeneratedRegex(@"^(?<rule>[a-z0-9-]+)(@(?<version>\d+\.\d+\.\d+))?$")]
    public static partial Regex Key();

    public static RuleMode? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "live" => RuleMode.Live,
        "silent" => RuleMode.Silent,
        "off" => RuleMode.Off,
        _ => null,
    };
}

/// <summary>A rule id the service does not have, or a mode other than live, silent or off, stops the service at start-up
/// (and a reload that brings one is refused, keeping the modes in force). Called by <see cref="RuleModes"/> rather than
/// registered with the options: a registered validator would throw inside the configuration's reload instead.</summary>
public sealed class RuleModeOptionsValidator : IValidateOptions<RuleModeOptions>
{
    public ValidateOptionsResult Validate(string? name, RuleModeOptions options)
    {
        var known = SecondaryMrRules.All.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var (key, value) in options.Modes)
        {
            var match = RuleModeOptions.Key().Match(key);
            if (!match.Success || !known.Contains(match.Groups["rule"].Value))
            {
                errors.Add($"{RuleModeOptions.Section}:Modes:{key} names no rule of this service; use a rule id ({string.Join(", ", known.Order(StringComparer.Ordinal))}), optionally with @version.");
            }
            if (RuleModeOptions.Parse(value) is null)
            {
                errors.Add($"{RuleModeOptions.Section}:Modes:{key} is '{value}'; use live, silent or off.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>How each rule runs now: the modes in force, kept as the last valid configuration read.</summary>
public sealed class RuleModes : IDisposable
{
    /// <summary>Per rule id, the mode of the version running (only the rules that are not live).</summary>
    private volatile Dictionary<string, RuleMode> _modes;
    private readonly IDisposable? _subscription;
    private readonly ILogger<RuleModes> _logger;

    public RuleModes(IOptionsMonitor<RuleModeOptions> options, ILogger<RuleModes> logger)
    {
        _logger = logger;
        _modes = Read(options.CurrentValue);
        _subscription = options.OnChange(Changed);
        Lookup = Of;
    }

    /// <summary><see cref="Of"/>, as the delegate the rules take (made once).</summary>
    public Func<RuleInfo, RuleMode> Lookup { get; }

    /// <summary>The mode of a rule: its version's entry, else its id's, else live.</summary>
    public RuleMode Of(RuleInfo rule) => _modes.Count == 0 ? RuleMode.Live : _modes.GetValueOrDefault(rule.Id, RuleMode.Live);

    /// <summary>The rules that do not run live, as "rule: mode" (for the log and the health page).</summary>
    public IReadOnlyList<string> NotLive => SecondaryMrRules.All.Where(r => Of(r) != RuleMode.Live)
        .Select(r => $"{r.Id} {r.Version}: {Of(r).ToString().ToLowerInvariant()}").ToList();

    private void Changed(RuleModeOptions options)
    {
        try
        {
            _modes = Read(options);
            RuleModeLog.Changed(_logger, NotLive.Count == 0 ? "every rule live" : string.Join("; ", NotLive));
        }
        catch (OptionsValidationException e)
        {
            RuleModeLog.Refused(_logger, string.Join(" ", e.Failures));
        }
    }

    private static Dictionary<string, RuleMode> Read(RuleModeOptions options)
    {
        var failures = new RuleModeOptionsValidator().Validate(null, options);
        if (failures.Failed)
        {
            throw new OptionsValidationException(RuleModeOptions.Section, typeof(RuleModeOptions), failures.Failures);
        }
        var modes = new Dictionary<string, RuleMode>(StringComparer.Ordinal);
        foreach (var rule in SecondaryMrRules.All)
        {
            var mode = options.Modes.TryGetValue($"{rule.Id}@{rule.Version}", out var exact) ? exact
                : options.Modes.GetValueOrDefault(rule.Id);
            if (RuleModeOptions.Parse(mode) is { } parsed and not RuleMode.Live)
            {
                modes[rule.Id] = parsed;
            }
        }
        return modes;
    }

    public void Dispose() => _subscription?.Dispose();
}

internal static partial class RuleModeLog
{
    [LoggerMessage(92, LogLevel.Warning, "Rule modes changed: {Modes:l}")]
    public static partial void Changed(ILogger logger, string modes);

    [LoggerMessage(93, LogLevel.Error, "Rule modes not changed: the new configuration is not valid: {Problems:l}")]
    public static partial void Refused(ILogger logger, string problems);
}
