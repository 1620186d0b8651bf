using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Tests.Support;

/// <summary>A CDS client identity (an EHR) for tests: a key pair, its public JWK Set, and fresh signed JWTs.</summary>
public sealed class TestEhr
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SecurityKey _key;
    private readonly string _algorithm;

    public TestEhr(string issuer, string kid, string algorithm = SecurityAlgorithms.EcdsaSha384)
    {
        Issuer = issuer;
        _algorithm = algorithm;
        if (algorithm.StartsWith("ES", StringComparison.Ordinal))
        {
            var curve = algorithm == "ES256" ? ECCurve.NamedCurves.nistP256 : algorithm == "ES512" ? ECCurve.NamedCurves.nistP521 : ECCurve.NamedCurves.nistP384;
            _key = new ECDsaSecurityKey(ECDsa.Create(curve)) { KeyId = kid };
        }
        else
        {
            _key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = kid };
        }
        var jwk = _key is ECDsaSecurityKey ec ? JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ec) : JsonWebKeyConverter.ConvertFromRSASecurityKey((RsaSecurityKey)_key);
        var publicJwk = new JsonObject { ["kty"] = jwk.Kty, ["kid"] = kid, ["use"] = "sig", ["alg"] = algorithm };
        foreach (var (name, value) in new[] { ("crv", jwk.Crv), ("x", jwk.X), ("y", jwk.Y), ("n", jwk.N), ("e", jwk.E) })
        {
            if (value is not null)
            {
                publicJwk[name] = value;
            }
        }
        Jwks = new JsonObject { ["keys"] = new JsonArray(publicJwk) }.ToJsonString();
    }

    /// <summary>The identity the default test configuration trusts.</summary>
    public static TestEhr Default { get; } = new("https://ehr.test.example", "test-key-1");

    public string Issuer { get; }

    /// <summary>The public JWK Set, as JSON.</summary>
    public string Jwks { get; }

    /// <summary>A JWT as CDS Hooks 2.0 describes it; each named argument lets a test break exactly one thing.</summary>
    public string Token(string audience, string? issuer = null, TimeSpan? lifetime = null, DateTimeOffset? issuedAt = null,
        string? jti = null, string? tenant = null, string? jku = null, bool withJti = true, bool withIat = true,
        object? audienceClaim = null, string typ = "JWT", DateTimeOffset? notBefore = null, object? expiresClaim = null)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer ?? Issuer,
            ["aud"] = audienceClaim ?? audience,
            ["exp"] = expiresClaim ?? (iat + (lifetime ?? TimeSpan.FromMinutes(5))).ToUnixTimeSeconds(),
        };
        if (withIat)
        {
            claims["iat"] = iat.ToUnixTimeSeconds();
        }
        if (withJti)
        {
            claims["jti"] = jti ?? Guid.NewGuid().ToString();
        }
        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }
        if (notBefore is { } nbf)
        {
            claims["nbf"] = nbf.ToUnixTimeSeconds();
        }
        var header = new Dictionary<string, object>();
        if (jku is not null)
        {
            header["jku"] = jku;
        }
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            TokenType = typ,
            AdditionalHeaderClaims = header,
            SigningCredentials = new SigningCredentials(_key, _algorithm),
        });
    }

    /// <summary>A token with alg "none" and no signature, which the spec forbids.</summary>
    public static string WithAlgNone(string audience, string issuer) =>
        $"{B64("""{"alg":"none","typ":"JWT","kid":"test-key-1"}""")}.{B64($$"""{"iss":"{{issuer}}","aud":"{{audience}}","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}},"iat":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"jti":"{{Guid.NewGuid()}}"}""")}.";

    /// <summary>A token signed with a shared secret (HS256), which the spec forbids.</summary>
    public static string SignedWithSharedSecret(string audience, string issuer) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["iss"] = issuer, ["aud"] = audience, ["jti"] = Guid.NewGuid().ToString() },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "test-key-1" }, SecurityAlgorithms.HmacSha256),
        });

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string B64(string json) => Base64Url(Encoding.UTF8.GetBytes(json));
}

/// <summary>Signs every outgoing request with a fresh JWT whose aud is the exact URL called.</summary>
public sealed class SigningHandler(TestEhr ehr, string publicBaseUrl, TimeProvider clock) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null && request.RequestUri!.AbsolutePath.StartsWith("/cds-services", StringComparison.Ordinal))
        {
            request.Headers.Authorization = new("Bearer", ehr.Token(publicBaseUrl.TrimEnd('/') + request.RequestUri.AbsolutePath, issuedAt: clock.GetUtcNow()));
        }
        return base.SendAsync(request, cancellationToken);
    }
}
