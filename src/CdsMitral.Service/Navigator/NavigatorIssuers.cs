using CdsMitral.Service.Trust;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

/// <summary>Which iss the Navigator will talk to: one some configured client (or the unverified list) may name as
/// fhirServer in a hook call — the same patterns, compared the same way.</summary>
public sealed class NavigatorIssuers(FhirServerPolicy policy, IOptions<TrustOptions> trust)
{
    private List<CallingClient> Callers()
    {
        var callers = trust.Value.Clients.Select(c => new CallingClient(c.Issuer, c.Name, null, null, true)).ToList();
        if (trust.Value.Mode == TrustMode.Off)
        {
            // Only then may an unverified caller name a fhirServer at all: its list means nothing while every call is verified.
            callers.Add(new CallingClient(null, null, null, null, false));
        }
        return callers;
    }

    /// <summary>The clients (their JWT issuers; null for an unverified caller) that may name <paramref name="iss"/> as fhirServer.</summary>
    public IReadOnlyList<string?> Clients(string iss) => [.. Callers().Where(c => policy.Refusal(c, iss) is null).Select(c => c.Issuer)];

    public string? Refusal(string iss)
    {
        var callers = Callers();
        string? first = callers.Count == 0 ? "no EHR is registered with this service." : null;
        foreach (var caller in callers)
        {
            if (policy.Refusal(caller, iss) is not { } refusal)
            {
                return null;
            }
            first ??= refusal;
        }
        return first;
    }
}
