using Microsoft.AspNetCore.Authorization;

namespace CdsMitral.Service.Hosting;

/// <summary>
/// Every route says where it is mapped what protects it: an authorization policy (<c>RequireAuthorization</c>: the CDS
/// client's JWT, an auditor's sign-in, a Navigator session) or <see cref="Public"/> with the reason it is open. The test
/// <c>EveryEndpointDeclaresItsProtection</c> lists them all (docs/endpoints.md) and fails on a route that declares neither.
/// </summary>
public static class EndpointProtection
{
    /// <summary>Open to anyone, on purpose; <paramref name="reason"/> is what docs/endpoints.md says about it.</summary>
    public static TBuilder Public<TBuilder>(this TBuilder builder, string reason)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PublicEndpoint(reason));

    /// <summary>What protects an endpoint, in words, or null when it declares nothing.</summary>
    public static string? Describe(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        var policies = metadata.GetOrderedMetadata<IAuthorizeData>().Select(d => d.Policy ?? d.AuthenticationSchemes ?? "an authenticated user").Distinct().ToList();
        var parts = new List<string>();
        if (metadata.GetMetadata<IAllowAnonymous>() is { } open)
        {
            // AllowAnonymous wins over any policy in the authorization middleware, so it is all that counts.
            return open is PublicEndpoint p ? $"public: {p.Reason}" : "public (no reason given)";
        }
        if (policies.Count > 0)
        {
            parts.Add($"policy {string.Join(" + ", policies.Select(p => $"`{p}`"))}");
        }
        if (metadata.GetMetadata<Microsoft.AspNetCore.Antiforgery.IAntiforgeryMetadata>() is { RequiresValidation: true })
        {
            parts.Add("antiforgery token");
        }
        return policies.Count == 0 ? null : string.Join(", ", parts);
    }
}

/// <summary>The metadata of <see cref="EndpointProtection.Public"/>: anonymous access, with its reason.</summary>
public sealed record PublicEndpoint(string Reason) : IAllowAnonymous;
