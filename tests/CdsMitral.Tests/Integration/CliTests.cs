using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>The command-line client, as a process: help, discovery, keys and signing, and clear failures.</summary>
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
}
