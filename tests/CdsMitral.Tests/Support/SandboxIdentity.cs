using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Tests.Support;

/// <summary>The public CDS Hooks Sandbox's identity (its private key is published): tokens signed the way it signs
/// them, ES384 with a jku that is unreachable from a closed network.</summary>
public static class SandboxIdentity
{
    public const string Issuer = "https://sandbox.cds-hooks.org";

    private static readonly JsonWebKey PrivateKey =
        new(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cds-hooks-sandbox-private.jwk.json")));

    public static string Jwt(string audience, DateTimeOffset now) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>
            {
                ["iss"] = Issuer, ["aud"] = audience, ["exp"] = now.AddSeconds(300).ToUnixTimeSeconds(),
                ["iat"] = now.ToUnixTimeSeconds(), ["jti"] = Guid.NewGuid().ToString(),
            },
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jku"] = "https://sandbox.cds-hooks.org/.well-known/jwks.json" },
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(PrivateKey, SecurityAlgorithms.EcdsaSha384),
        });
}
