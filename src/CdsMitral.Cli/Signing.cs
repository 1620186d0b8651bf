using System.CommandLine;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Cli;

/// <summary>Signs the client JWT that CDS Hooks 2.0 asks for on every call: aud is the exact URL called.</summary>
public sealed class Signing(JsonWebKey key, string issuer)
{
    public sealed record OptionSet(Option<FileInfo?> Key, Option<string?> Issuer)
    {
        public void AddTo(Command command)
        {
            command.Options.Add(Key);
            command.Options.Add(Issuer);
        }

        public Signing? Read(ParseResult parse)
        {
            var file = parse.GetValue(Key);
            var issuer = parse.GetValue(Issuer);
            if (file is null && issuer is null)
            {
                return null;
            }
            if (file is null || issuer is null)
            {
                throw new CliException(CliException.BadInput, "--sign-with and --issuer go together.");
            }
            if (!file.Exists)
            {
                throw new CliException(CliException.BadInput, $"{file.FullName} does not exist.");
            }
            try
            {
                var key = new JsonWebKey(File.ReadAllText(file.FullName));
                return key.HasPrivateKey ? new Signing(key, issuer) : throw new CliException(CliException.BadInput, $"{file.Name} holds no private key.");
            }
            catch (ArgumentException e)
            {
                throw new CliException(CliException.BadInput, $"{file.Name} is not a JWK: {e.Message}");
            }
        }
    }

    public static OptionSet Options() => new(
        new Option<FileInfo?>("--sign-with") { Description = "A private JWK (from 'keys new') to sign the client JWT with" },
        new Option<string?>("--issuer") { Description = "The iss of the client JWT: the issuer the service trusts" });

    public string Token(string audience)
    {
        var now = DateTimeOffset.UtcNow;
        var algorithm = key.Kty == "RSA" ? SecurityAlgorithms.RsaSha384 : key.Crv switch
        {
            "P-256" => SecurityAlgorithms.EcdsaSha256,
            "P-521" => SecurityAlgorithms.EcdsaSha512,
            _ => SecurityAlgorithms.EcdsaSha384,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object>
            {
                ["iss"] = issuer, ["aud"] = audience, ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
                ["jti"] = Guid.NewGuid().ToString(),
            },
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }
}
