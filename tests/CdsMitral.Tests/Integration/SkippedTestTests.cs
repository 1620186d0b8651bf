using System.Diagnostics;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>What a developer without PostgreSQL (or Chromium, or the real FHIR server) sees from `dotnet test`: the test is
/// skipped, not failed, and its result carries the reason and the command that provides what is missing (xunit.v3's
/// Assert.Skip). The console prints a result's reason at the detailed verbosity the README names.</summary>
[Slow]
public sealed class SkippedTestTests
{
    [Fact]
    public async Task ASkippedTestSaysWhyInItsResult()
    {
        // This very assembly, run as `dotnet test` runs it with its default verbosity, on one test that needs PostgreSQL.
        var start = new ProcessStartInfo("dotnet", ["test", typeof(SkippedTestTests).Assembly.Location,
            "--filter", "FullyQualifiedName=CdsMitral.Tests.Http.HealthTests.ReadinessFailsWhenThePostgresStoreCannotBeReached",
            "--logger", "console;verbosity=detailed"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove(Support.Requires.PostgresVariable);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var printed = await output + await error;
        Assert.True(process.ExitCode == 0, printed);
        Assert.Matches(@"Skipped:\s+1\b", printed);
        var lines = printed.Split('\n');
        var skipped = Array.FindIndex(lines, line => line.Contains("Skipped ", StringComparison.Ordinal)
            && line.Contains("ReadinessFailsWhenThePostgresStoreCannotBeReached", StringComparison.Ordinal));
        Assert.True(skipped >= 0, printed);
        Assert.Contains(lines.Skip(skipped).Take(4), line =>
            line.Contains("SKIPPED: no PostgreSQL server. Run `export CDSMITRAL_TEST_POSTGRES=$(bash .ci/postgres.sh)`", StringComparison.Ordinal));
    }
}
