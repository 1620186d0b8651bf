using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Hosting;

/// <summary>All settings under "CdsMitral". Defaults are the production-safe ones.</summary>
public sealed class CdsMitralOptions
{
    public const string Section = "CdsMitral";

    /// <summary>The URL clients use to reach this service (behind a proxy, the proxy's). The expected JWT audience and
    /// card links are built from it, never from a request's Host header. Required outside Development; in Development an
    /// unset value falls back to the listening address from configuration (urls / Kestrel).</summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>One deadline for all FHIR fetching of a hook call.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan HookDeadline { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Timeout of one FHIR GET attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan FhirRequestTimeout { get; set; } = TimeSpan.FromSeconds(1);

    [Range(0, 5)]
    public int FhirMaxRetries { get; set; } = 2;

    /// <summary>How many pages (the first plus next links) one search may follow.</summary>
    [Range(1, 100)]
    public int FhirMaxPages { get; set; } = 10;

    [Range(1024, 512L * 1024 * 1024)]
    public long FhirMaxResponseBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Largest hook request body accepted (413 above it). Real prefetch bundles run to a few hundred KB.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Measurements older than this are stale: shown with their date, never used as current.</summary>
    [Range(1, 120)]
    public int StaleAfterMonths { get; set; } = 12;
}

[OptionsValidator]
public sealed partial class CdsMitralOptionsValidator : IValidateOptions<CdsMitralOptions>;

/// <summary>PublicBaseUrl is what JWT audiences are checked against, so it must be a plain absolute http(s) URL.
/// (That it must be set outside Development is checked with the trust settings, which depend on it.)</summary>
public sealed class PublicBaseUrlValidator : IValidateOptions<CdsMitralOptions>
{
    public ValidateOptionsResult Validate(string? name, CdsMitralOptions options) =>
        string.IsNullOrWhiteSpace(options.PublicBaseUrl)
        || Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http"
            && url.UserInfo.Length == 0 && url.Query.Length == 0 && url.Fragment.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"CdsMitral:PublicBaseUrl must be an absolute http(s) URL without user, query or fragment (it is '{options.PublicBaseUrl}').");
}
