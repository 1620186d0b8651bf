using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Trust;

/// <summary>Start-up check of every FHIR server pattern: a malformed one stops the service with a sentence.</summary>
public sealed class FhirServerPatternsValidator : IValidateOptions<TrustOptions>
{
    public ValidateOptionsResult Validate(string? name, TrustOptions options)
    {
        var named = options.Clients.SelectMany((c, i) => c.FhirServers.Select((p, j) => ($"CdsMitral:Trust:Clients:{i}:FhirServers:{j}", p)))
            .Concat(options.UnverifiedFhirServers.Select((p, j) => ($"CdsMitral:Trust:UnverifiedFhirServers:{j}", p)));
        var errors = named.Select(n => FhirServerPattern.TryParse(n.p, out _, out var problem) ? null : $"{n.Item1} is '{n.p}', which is not a FHIR server pattern: {problem}.")
            .OfType<string>().ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
