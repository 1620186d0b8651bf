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
        var force = new Option<bool>("--force") { Description = "Write the private key even into a git working tree that does not ignore it" };
        var create = new Command("new", """
            Make a key pair for a test CDS client: a private JWK (for --sign-with) and a public JWK Set (to register with the service).
            A private key is not written where git would commit it (inside a working tree, not ignored) unless --force is given.

            Example:
              cdsmitral keys new --kid my-ehr-1 --out keys/
            """) { algorithm, kid, output, force };
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
            var privateFile = Path.Combine(directory.FullName, $"{id}.private.jwk.json");
            var publicFile = Path.Combine(directory.FullName, $"{id}.jwks.json");
            if (GitExposure(privateFile) is { } exposure)
            {
                if (!parse.GetValue(force))
                {
                    throw new CliException(CliException.BadInput,
                        $"Not writing a private key to {privateFile}: {exposure}, so it would be committed. Add the folder to .gitignore, choose --out outside the working tree, or pass --force.");
                }
                Terminal.Create(Console.Error, Console.IsErrorRedirected).MarkupLine($"[yellow]warning:[/] {Markup.Escape(exposure)}; the private key is written there anyway (--force). Do not commit it.");
            }
            directory.Create();
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

    /// <summary>Why git would pick up <paramref name="file"/> (it lies in a working tree and is not ignored), or null.</summary>
    private static string? GitExposure(string file)
    {
        string? root = null;
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(file)!); dir is not null; dir = dir.Parent)
        {
            // .git is a folder in a clone and a file in a worktree or submodule.
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                root = dir.FullName;
                break;
            }
        }
        if (root is null)
        {
            return null;
        }
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("git", ["-C", root, "check-ignore", "-q", "--", Path.GetRelativePath(root, file)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var git = System.Diagnostics.Process.Start(start)!;
            git.WaitForExit();
            return git.ExitCode switch
            {
                0 => null,
                1 => $"{root} is a git working tree that does not ignore {Path.GetRelativePath(root, file)}",
                _ => $"{root} looks like a git working tree, and git could not say whether it ignores the key",
            };
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"{root} looks like a git working tree, and git is not installed to say whether it ignores the key";
        }
    }
}
