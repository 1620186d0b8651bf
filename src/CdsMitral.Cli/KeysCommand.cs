using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Spectre.Console;

namespace CdsMitral.Cli;

public static class KeysCommand
{
    public static Command Create()
    {
        var algorithm = new Option<string>("--alg") { Description = "ES384 (default) or RS384", DefaultValueFactory = _ => "ES384" };
        var kid = new Option<string>("--kid") { Description = "The key id", DefaultValueFactory = _ => "cds-client-" + DateTimeOffset.UtcNow.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture) };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write the key files", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var create = new Command("new", """
            Make a key pair for a test CDS client: a private JWK (for --sign-with) and a public JWK Set (to register with the service).

            Example:
              cdsmitral keys new --kid my-ehr-1 --out keys/
            """) { algorithm, kid, output };
        create.SetAction((parse, _) => CliException.Guard(() =>
        {
            var alg = parse.GetValue(algorithm)!.ToUpperInvariant();
            var id = parse.GetValue(kid)!;
            JsonWebKey jwk = alg switch
            {
                "ES384" => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP384)) { KeyId = id }),
                "RS384" => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(RSA.Create(3072)) { KeyId = id }),
                _ => throw new CliException(CliException.BadInput, $"--alg is ES384 or RS384, not '{alg}'."),
            };
            jwk.Alg = alg;
            jwk.Use = "sig";
            var publicPart = new JsonObject { ["kty"] = jwk.Kty, ["kid"] = id, ["use"] = "sig", ["alg"] = alg };
            foreach (var (name, value) in new[] { ("crv", jwk.Crv), ("x", jwk.X), ("y", jwk.Y), ("n", jwk.N), ("e", jwk.E) })
            {
                if (value is not null)
                {
                    publicPart[name] = value;
                }
            }
            var privatePart = (JsonObject)publicPart.DeepClone();
            foreach (var (name, value) in new[] { ("d", jwk.D), ("p", jwk.P), ("q", jwk.Q), ("dp", jwk.DP), ("dq", jwk.DQ), ("qi", jwk.QI) })
            {
                if (value is not null)
                {
                    privatePart[name] = value;
                }
            }
            var directory = parse.GetValue(output)!;
            directory.Create();
            var privateFile = Path.Combine(directory.FullName, $"{id}.private.jwk.json");
            var publicFile = Path.Combine(directory.FullName, $"{id}.jwks.json");
            File.WriteAllText(privateFile, privatePart.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(privateFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.WriteAllText(publicFile, new JsonObject { ["keys"] = new JsonArray(publicPart) }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            AnsiConsole.MarkupLine($"private key  [bold]{Markup.Escape(privateFile)}[/] (keep it secret; use it with --sign-with)");
            AnsiConsole.MarkupLine($"public keys  [bold]{Markup.Escape(publicFile)}[/] (register it with the service)");
            var snippet = $$"""
                "CdsMitral": { "Trust": { "Clients": [ { "Issuer": "https://my-ehr.example", "JwksFile": "{{publicFile}}", "FhirServers": [ "https://my-ehr.example/fhir" ] } ] } }
                """;
            AnsiConsole.MarkupLine("Register the client in the service's settings (docs/security.md), for example:");
            AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(snippet)}[/]");
            return Task.FromResult(0);
        }));
        var keys = new Command("keys", "Key pairs for CDS clients.");
        keys.Subcommands.Add(create);
        return keys;
    }
}
