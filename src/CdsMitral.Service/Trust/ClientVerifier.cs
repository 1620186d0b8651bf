using System.Text.Json;
using CdsMitral.Service.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Service.Trust;

/// <summary>Who called, as far as the service could establish it. Never holds the JWT itself.</summary>
public sealed record CallingClient(string? Issuer, string? Name, string? Jti, string? Tenant, bool Verified)
{
    public static CallingClient Unverified { get; } = new(null, null, null, null, false);
}

public sealed record TrustResult(CallingClient? Client, string? Failure);

/// <summary>
/// Verifies the client JWT of a CDS Hooks call (2.0 §Trusting CDS Clients and the best-practice checks):
/// asymmetric signature by a key of the issuer's JWK Set, typ JWT and kid in the header, iss on the allowlist,
/// aud equal to the URL invoked, claims of the types the spec gives (exp and iat numbers, jti a string), exp/iat/nbf
/// within the clock skew and a lifetime (exp - iat) of at most 5 minutes, a tenant on the list when one is configured,
/// and a jti not seen before. The reason for a failure is for the log; the caller only ever learns "401".
/// </summary>
public sealed class ClientVerifier
{
    private static readonly string[] Asymmetric =
        [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
         SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
         SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512];

    /// <summary>CDS Hooks 2.0 leaves a token's lifetime open; 5 minutes is what the Sandbox, Inferno and SMART Backend
    /// Services use, and it bounds how long a leaked token works and how long the replay cache must remember it.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);

    private readonly TrustOptions _options;
    private readonly JwksCache _jwks;
    private readonly IReplayCache _replay;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (TrustedClient Client, JsonWebKeySet? StaticKeys, string[] Algorithms)> _clients;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public ClientVerifier(IOptions<TrustOptions> options, JwksCache jwks, IReplayCache replay, TimeProvider time)
    {
        _options = options.Value;
        _jwks = jwks;
        _replay = replay;
        _time = time;
        _clients = _options.Clients.ToDictionary(c => c.Issuer, c => (c, StaticKeys(c), Algorithms(c)), StringComparer.Ordinal);
    }

    public async Task<TrustResult> VerifyAsync(string? authorization, string expectedAudience, CancellationToken cancellationToken)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Fail("no bearer token");
        }
        var raw = authorization["Bearer ".Length..].Trim();
        JsonWebToken token;
        try
        {
            token = new JsonWebToken(raw);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or JsonException or FormatException)
        {
            return Fail("malformed JWT");
        }
        if (ClaimTypes(token) is { } wrongType)
        {
            return Fail(wrongType);
        }
        if (!Asymmetric.Contains(token.Alg, StringComparer.Ordinal))
        {
            return Fail($"algorithm '{Safe(token.Alg)}' is not an accepted asymmetric algorithm");
        }
        if (!string.Equals(token.Typ, "JWT", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"header typ is '{Safe(token.Typ)}', not JWT");
        }
        if (string.IsNullOrEmpty(token.Kid))
        {
            return Fail("header has no kid");
        }
        if (!_clients.TryGetValue(token.Issuer ?? "", out var client))
        {
            return Fail($"issuer '{Safe(token.Issuer)}' is not a trusted client");
        }
        if (!client.Algorithms.Contains(token.Alg, StringComparer.Ordinal))
        {
            return Fail($"algorithm {token.Alg} is not accepted for {client.Client.Issuer}");
        }
        var key = await FindKey(client.Client, client.StaticKeys, token, cancellationToken);
        if (key.Failure is not null)
        {
            return Fail(key.Failure);
        }

        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKey = key.Key,
            ValidIssuer = client.Client.Issuer,
            ValidAlgorithms = client.Algorithms,
            ValidTypes = ["JWT"],
            AudienceValidator = (audiences, _, _) => audiences.Any(a => SameUrl(a, expectedAudience)),
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = _options.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, _) => Lifetime(notBefore, expires),
        });
        if (!result.IsValid)
        {
            return Fail(result.Exception switch
            {
                SecurityTokenInvalidAudienceException => $"aud does not name {expectedAudience}",
                SecurityTokenExpiredException or SecurityTokenNotYetValidException or SecurityTokenInvalidLifetimeException => "outside its lifetime (exp/nbf)",
                SecurityTokenNoExpirationException => "no exp",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "signature does not verify",
                _ => $"rejected ({result.Exception?.GetType().Name})",
            });
        }
        // exp and iat are JSON numbers here (ClaimTypes); fractions of a second do not matter.
        var exp = token.GetPayloadValue<double>("exp");
        var iat = token.GetPayloadValue<double>("iat");
        if (iat > _time.GetUtcNow().ToUnixTimeSeconds() + _options.ClockSkew.TotalSeconds)
        {
            return Fail("iat is in the future");
        }
        if (exp - iat > (MaxLifetime + _options.ClockSkew).TotalSeconds)
        {
            return Fail($"lifetime exp - iat is {Math.Min(exp - iat, 1e12):0} s, over {MaxLifetime.TotalSeconds:0} s plus the clock skew");
        }
        var jti = token.GetPayloadValue<string>("jti");
        token.TryGetPayloadValue<string>("tenant", out var tenant);
        if (client.Client.Tenants.Count > 0 && (tenant is null || !client.Client.Tenants.Contains(tenant, StringComparer.Ordinal)))
        {
            return Fail($"tenant '{Safe(tenant)}' is not allowed for {client.Client.Issuer}");
        }
        if (!await _replay.TryRecordAsync(client.Client.Issuer, jti, token.ValidTo + _options.ClockSkew, cancellationToken))
        {
            return Fail($"jti {Safe(jti)} was already used");
        }
        return new TrustResult(new CallingClient(client.Client.Issuer, client.Client.Name, jti, tenant, Verified: true), null);
    }

    /// <summary>The claims as the spec types them (2.0 §Trusting CDS Clients): iss and jti strings, aud a string or an
    /// array of strings, exp and iat numbers (nbf too, when present), tenant a string. Read from the payload's JSON itself:
    /// the token library would turn "exp": "4102444800" into a date.</summary>
    private static string? ClaimTypes(JsonWebToken token)
    {
        try
        {
            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
            if (payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return "payload is not a JSON object";
            }
            var claims = payload.RootElement;
            foreach (var (name, kind, required) in new[] { ("iss", JsonValueKind.String, true), ("exp", JsonValueKind.Number, true),
                ("iat", JsonValueKind.Number, true), ("jti", JsonValueKind.String, true), ("nbf", JsonValueKind.Number, false), ("tenant", JsonValueKind.String, false) })
            {
                if (!claims.TryGetProperty(name, out var value))
                {
                    if (required)
                    {
                        return $"no {name}";
                    }
                }
                else if (value.ValueKind != kind)
                {
                    return $"{name} is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not a {kind.ToString().ToLowerInvariant()}";
                }
                else if (kind == JsonValueKind.Number && !value.TryGetDouble(out _))
                {
                    return $"{name} is not a usable number";
                }
            }
            if (claims.GetProperty("jti").GetString() is not { Length: > 0 } jti || string.IsNullOrWhiteSpace(jti))
            {
                return "jti is empty";
            }
            if (!claims.TryGetProperty("aud", out var aud))
            {
                return "no aud";
            }
            if (aud.ValueKind != JsonValueKind.String && (aud.ValueKind != JsonValueKind.Array || aud.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String)))
            {
                return "aud is neither a string nor an array of strings";
            }
            return null;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            return "payload is not JSON";
        }
    }

    private bool Lifetime(DateTime? notBefore, DateTime? expires)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return expires is { } exp && exp + _options.ClockSkew >= now && (notBefore is not { } nbf || nbf - _options.ClockSkew <= now);
    }

    private async Task<(SecurityKey? Key, string? Failure)> FindKey(TrustedClient client, JsonWebKeySet? staticKeys, JsonWebToken token, CancellationToken cancellationToken)
    {
        // Keys exchanged out of band come first: a client whose jku is unreachable (the CDS Hooks Sandbox from a closed
        // network) is still verified, and nothing is fetched for it.
        if (staticKeys is not null && JwksCache.Find(staticKeys, token.Kid) is { } fromStatic)
        {
            return (fromStatic, null);
        }
        token.TryGetHeaderValue<string>("jku", out var jku);
        if (jku is not null)
        {
            // Follow a jku only when it is on this issuer's list: an arbitrary URL would let a caller choose the key and
            // make the service fetch from anywhere.
            if (!client.JwksUrls.Contains(jku, StringComparer.Ordinal))
            {
                return (null, $"jku '{Safe(jku)}' is not on the list for {client.Issuer}");
            }
            return await _jwks.FindKeyAsync(jku, token.Kid, cancellationToken) is { } fromJku ? (fromJku, null) : (null, $"kid '{Safe(token.Kid)}' is not in {jku}");
        }
        foreach (var url in client.JwksUrls)
        {
            if (await _jwks.FindKeyAsync(url, token.Kid, cancellationToken) is { } fromUrl)
            {
                return (fromUrl, null);
            }
        }
        return (null, $"kid '{Safe(token.Kid)}' is not a key of {client.Issuer}");
    }

    /// <summary>aud is compared as a URL: scheme and host without case, a trailing slash ignored.</summary>
    public static bool SameUrl(string a, string b) =>
        Uri.TryCreate(a.TrimEnd('/'), UriKind.Absolute, out var x) && Uri.TryCreate(b.TrimEnd('/'), UriKind.Absolute, out var y)
        && Uri.Compare(x, y, UriComponents.SchemeAndServer | UriComponents.PathAndQuery, UriFormat.UriEscaped, StringComparison.Ordinal) == 0;

    private static JsonWebKeySet? StaticKeys(TrustedClient c)
    {
        var json = c.Jwks ?? (c.JwksFilePath is { } file ? File.ReadAllText(file) : null);
        return json is null ? null : new JsonWebKeySet(json);
    }

    private static string[] Algorithms(TrustedClient c) =>
        (c.Algorithms.Count == 0 ? Asymmetric : c.Algorithms.Intersect(Asymmetric, StringComparer.Ordinal)).ToArray();

    /// <summary>Header and claim values are attacker-chosen: shorten them before they reach a log line.</summary>
    private static string Safe(string? value) => value is null ? "(none)" : value.Length <= 80 ? value : value[..80] + "…";

    private static TrustResult Fail(string reason) => new(null, reason);
}
