namespace CdsMitral.Service.Trust;

public enum TrustMode
{
    /// <summary>Every call to /cds-services must carry a valid client JWT (CDS Hooks 2.0 §Trusting CDS Clients).</summary>
    Verify,

    /// <summary>No JWT check. Development only: refused at start-up in any other environment, and logged on every call.</summary>
    Off,
}

/// <summary>Settings under "CdsMitral:Trust". The defaults trust nobody.</summary>
public sealed class TrustOptions
{
    public const string Section = "CdsMitral:Trust";

    public TrustMode Mode { get; set; } = TrustMode.Verify;

    /// <summary>Tolerance for exp, iat and nbf between the client's clock and ours.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A kid missing from a cached JWK Set triggers at most one refresh of that set per interval.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a fetched JWK Set is used before it is fetched again.</summary>
    public TimeSpan JwksCacheLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Refuse a fhirServer that is not https (the spec: https "when production data is exchanged").</summary>
    public bool RequireHttpsFhirServer { get; set; } = true;

    /// <summary>With Mode=Off there is no issuer to consult: the fhirServers allowed then (patterns, see FhirServers).</summary>
    public List<string> UnverifiedFhirServers { get; set; } = [];

    public List<TrustedClient> Clients { get; set; } = [];
}

/// <summary>One CDS client (an EHR) allowed to call the service.</summary>
public sealed class TrustedClient
{
    /// <summary>The exact iss of its JWTs.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>A name for logs and the audit trail.</summary>
    public string? Name { get; set; }

    /// <summary>JWK Set URLs this issuer may point at with jku. A jku not on this list is refused, never fetched.
    /// Without jku, these are the issuer's sets.</summary>
    public List<string> JwksUrls { get; set; } = [];

    /// <summary>A JWK Set file (keys exchanged out of band): absolute, or relative to the service's own directory,
    /// where the shipped presets are (presets/cds-hooks-sandbox.jwks.json).</summary>
    public string? JwksFile { get; set; }

    public string? JwksFilePath => JwksFile is null ? null : Path.IsPathRooted(JwksFile) ? JwksFile : Path.Combine(AppContext.BaseDirectory, JwksFile);

    /// <summary>A JWK Set inline, as JSON.</summary>
    public string? Jwks { get; set; }

    /// <summary>When not empty, the tenant claim must be one of these.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The FHIR servers this client may ask the service to call: base URL patterns compared part by part, with
    /// "*." before a domain (one label), ":*" (any port) or a "*" path segment (e.g. "https://*.example.org/fhir/R4";
    /// see FhirServerPattern). Any other fhirServer is refused with 403.</summary>
    public List<string> FhirServers { get; set; } = [];

    /// <summary>Accepted signature algorithms; empty means ES384, RS384, ES256, RS256, ES512, RS512, PS256, PS384, PS512.
    /// none and HMAC are never accepted, whatever this says.</summary>
    public List<string> Algorithms { get; set; } = [];
}
