using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>The command-line client, as a process: help, discovery, keys and signing, and clear failures.</summary>
[Slow]
public sealed class CliTests
{
    [Fact]
    public async Task HelpShowsRealExamples()
    {
        var help = await CliProcess.RunAsync("hook", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile --prefetch", help.Output, StringComparison.Ordinal);
        Assert.Contains("--sign-with", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DiscoverListsTheServicesAsATableOrJson()
    {
        await using var service = await ServiceProcess.StartAsync();
        var table = await CliProcess.RunAsync("discover", $"{service.BaseUrl}/cds-services");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("secondary-mr-order-select", table.Output, StringComparison.Ordinal);
        Assert.Contains("echoObservations", table.Output, StringComparison.Ordinal);
        var json = await CliProcess.RunAsync("discover", service.BaseUrl, "--json");
        Assert.Equal(3, JsonNode.Parse(json.Output)!["services"]!.AsArray().Count);
    }

    [Fact]
    public async Task AClientKeyFromKeysNewSignsCallsTheServiceVerifies()
    {
        var keys = Path.Combine(Path.GetTempPath(), "cdsmitral-keys", Guid.NewGuid().ToString("N"));
        var made = await CliProcess.RunAsync("keys", "new", "--kid", "cli-test-1", "--out", keys);
        Assert.Equal(0, made.ExitCode);
        var privateKey = Path.Combine(keys, "cli-test-1.private.jwk.json");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privateKey));
        }
        Assert.DoesNotContain("\"d\"", await File.ReadAllTextAsync(Path.Combine(keys, "cli-test-1.jwks.json")), StringComparison.Ordinal);

        // A service that verifies JWTs and trusts that key (Production-like settings, started as its own process).
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Trust__Mode"] = "Verify",
            ["CdsMitral__Trust__Clients__0__Issuer"] = "https://cli-test.example",
            ["CdsMitral__Trust__Clients__0__JwksFile"] = Path.Combine(keys, "cli-test-1.jwks.json"),
        });
        var signed = await CliProcess.RunAsync("hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--prefetch",
            "--sign-with", privateKey, "--issuer", "https://cli-test.example", "--json");
        Assert.True(signed.ExitCode == 0, signed.Error);
        Assert.Single(JsonNode.Parse(signed.Output)!["cards"]!.AsArray());

        var unsigned = await CliProcess.RunAsync("hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--prefetch");
        Assert.Equal(4, unsigned.ExitCode);
        Assert.Contains("401", unsigned.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, "cannot reach", "hook", "http://127.0.0.1:9", "--service", "x", "--patient", "coapt-profile", "--prefetch")]
    [InlineData(2, "neither a file nor a sample", "hook", "http://127.0.0.1:9", "--service", "x", "--patient", "nobody", "--prefetch")]
    [InlineData(2, "--prefetch, or --fhir", "hook", "http://127.0.0.1:9", "--service", "x", "--patient", "coapt-profile")]
    [InlineData(2, "go together", "hook", "http://127.0.0.1:9", "--service", "x", "--patient", "coapt-profile", "--prefetch", "--issuer", "https://x")]
    [InlineData(2, "not an http(s) URL", "load", "ftp://x/fhir", "coapt-profile")]
    [InlineData(2, "ES384 or RS384", "keys", "new", "--alg", "HS256")]
    public async Task FailuresSayWhatIsWrongAndExitNonZero(int exitCode, string message, params string[] args)
    {
        var result = await CliProcess.RunAsync(args);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APreconditionFailedHookExitsWithItsOwnCode()
    {
        await using var service = await ServiceProcess.StartAsync();
        // The FHIR server named does not answer (nothing listens on port 9), so required data cannot be had: 412.
        var result = await CliProcess.RunAsync("hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--fhir", "http://127.0.0.1:9/fhir");
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("412", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCliFiresOrderSignWithItsDraftOrderAndShowsTheCardsForEveryDraft()
    {
        await using var service = await ServiceProcess.StartAsync();
        var result = await CliProcess.RunAsync("hook", service.BaseUrl, "--service", "secondary-mr-order-sign", "--patient", "post-teer", "--prefetch", "--order", "surgery", "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        var cards = JsonNode.Parse(result.Output)!["cards"]!.AsArray();
        Assert.Equal(["smr-periop"], cards.Select(c => (string)c!["source"]!["topic"]!["code"]!));
    }

    [Fact]
    public async Task ThePrintedRequestIsWhatTheReadmeCurlSends()
    {
        await using var service = await ServiceProcess.StartAsync();
        var printed = await CliProcess.RunAsync("hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--prefetch", "--print-request");
        Assert.True(printed.ExitCode == 0, printed.Error);
        var request = JsonNode.Parse(printed.Output)!;
        Assert.Equal("patient-view", (string?)request["hook"]);
        Assert.NotNull(request["prefetch"]!["echoObservations"]);
    }

    [Fact]
    public async Task KeysNewRefusesToWriteAPrivateKeyWhereGitWouldCommitIt()
    {
        var tree = NewFolder();
        Assert.Equal(0, (await RunAsync(tree, NoEnvironment, "git", "init", "-q")).ExitCode);
        var privateKey = Path.Combine(tree, "secrets", "k1.private.jwk.json");

        var refused = await CliProcess.RunAsync("keys", "new", "--kid", "k1", "--out", Path.Combine(tree, "secrets"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("would be committed", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(privateKey));

        var forced = await CliProcess.RunAsync("keys", "new", "--kid", "k1", "--out", Path.Combine(tree, "secrets"), "--force");
        Assert.True(forced.ExitCode == 0, forced.Error);
        Assert.Contains("warning:", forced.Error, StringComparison.Ordinal);
        Assert.True(File.Exists(privateKey));

        await File.WriteAllTextAsync(Path.Combine(tree, ".gitignore"), "secrets/\n");
        var ignored = await CliProcess.RunAsync("keys", "new", "--kid", "k2", "--out", Path.Combine(tree, "secrets"));
        Assert.True(ignored.ExitCode == 0, ignored.Error);
        Assert.Equal("", ignored.Error);
    }

    [Fact]
    public async Task TheRepositoryIgnoresTheKeysFolderThatTheHelpSuggests()
    {
        // The help's own example, in this repository: keys/ is ignored, so the key is written without a word.
        var kid = "cli-test-" + Guid.NewGuid().ToString("N");
        var folder = Path.Combine(Repo.Root, "keys", kid);
        try
        {
            var made = await CliProcess.RunAsync("keys", "new", "--kid", kid, "--out", Path.Combine("keys", kid));
            Assert.True(made.ExitCode == 0, made.Error);
            Assert.Equal("", made.Error);
            Assert.Equal(0, (await RunAsync(Repo.Root, NoEnvironment, "git", "check-ignore", "-q", "--", $"keys/{kid}/{kid}.private.jwk.json")).ExitCode);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
            if (Directory.Exists(Path.GetDirectoryName(folder)) && !Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(folder)!).Any())
            {
                Directory.Delete(Path.GetDirectoryName(folder)!);
            }
        }
    }

    [Fact]
    public async Task AnInstalledCliKnowsTheSampleNamesInAnyFolder()
    {
        await using var service = await ServiceProcess.StartAsync();
        var elsewhere = NewFolder();
        var hook = await RunCliAsync(elsewhere, NoEnvironment, "hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--prefetch", "--json");
        Assert.True(hook.ExitCode == 0, hook.Error);
        Assert.Equal("smr-coapt-profile", (string?)Assert.Single(JsonNode.Parse(hook.Output)!["cards"]!.AsArray())!["source"]!["topic"]!["code"]);

        var unknown = await RunCliAsync(elsewhere, NoEnvironment, "hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "nobody", "--prefetch");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("coapt-profile, dq-entered-in-error", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutputIntoAPipeHasNoEscapeCodesAndNoColourUnderNoColor()
    {
        await using var service = await ServiceProcess.StartAsync();
        string[] hook = ["hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile", "--prefetch"];
        var colourTerminal = new Dictionary<string, string?> { ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor" };

        var piped = await RunCliAsync(Repo.Root, colourTerminal, hook);
        Assert.True(piped.ExitCode == 0, piped.Error);
        Assert.Contains("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg", piped.Output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', piped.Output);
        // The detail's markdown escapes (the JSON's "on record\\: NYHA III") are not shown as typed.
        Assert.Contains("on record: NYHA", piped.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\\[!-/:-@\[-`{-~]", piped.Output);

        // Asked for escape codes (FORCE_COLOR), the same output has colour; NO_COLOR takes the colour away again.
        var forced = await RunCliAsync(Repo.Root, new Dictionary<string, string?>(colourTerminal) { ["FORCE_COLOR"] = "1" }, hook);
        Assert.True(HasColour(forced.Output), forced.Output);
        var noColour = await RunCliAsync(Repo.Root, new Dictionary<string, string?>(colourTerminal) { ["FORCE_COLOR"] = "1", ["NO_COLOR"] = "1" }, hook);
        Assert.True(noColour.ExitCode == 0, noColour.Error);
        Assert.False(HasColour(noColour.Output), noColour.Output);

        var error = await RunCliAsync(Repo.Root, colourTerminal, "hook", service.BaseUrl, "--service", "x", "--patient", "coapt-profile", "--prefetch");
        Assert.Equal(2, error.ExitCode);
        Assert.DoesNotContain('\u001b', error.Error);
    }

    [Fact]
    public async Task WithoutATerminalTheDiscoveryTableKeepsEachRowOnOneLine()
    {
        await using var service = await ServiceProcess.StartAsync();
        var table = await RunCliAsync(Repo.Root, new Dictionary<string, string?> { ["TERM"] = "xterm-256color" }, "discover", service.BaseUrl);
        Assert.True(table.ExitCode == 0, table.Error);
        foreach (var id in new[] { "secondary-mr-patient-view", "secondary-mr-order-select", "secondary-mr-order-sign" })
        {
            // The id, its hook and its last prefetch key on one line: no word was cut or moved to a line of its own.
            Assert.Contains(table.Output.Split('\n'), line => line.Contains($" {id} ", StringComparison.Ordinal)
                && line.Contains("medicationStatements,", StringComparison.Ordinal) && line.Contains("procedures", StringComparison.Ordinal));
        }
    }

    /// <summary>True when some SGR escape sets a foreground or background colour (30–49, 90–107).</summary>
    private static bool HasColour(string output) =>
        System.Text.RegularExpressions.Regex.Matches(output, "\u001b\\[([0-9;]*)m").Any(m => m.Groups[1].Value.Split(';')
            .Any(p => int.TryParse(p, out var code) && (code is >= 30 and <= 49 or >= 90 and <= 107)));

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cdsmitral-cli", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The CLI in a folder of the test's choosing, with the environment given (NO_COLOR, COLUMNS unset otherwise).</summary>
    private static Task<CliProcess.Result> RunCliAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunAsync(workingDirectory, environment, "dotnet", [Path.Combine(AppContext.BaseDirectory, "CdsMitral.Cli.dll"), .. args]);

    private static async Task<CliProcess.Result> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, string program, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var name in new[] { "NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM", "COLORTERM" })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new CliProcess.Result(process.ExitCode, await output, await error);
    }
}
