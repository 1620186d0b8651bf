using System.Diagnostics;

namespace CdsMitral.Tests.Integration;

/// <summary>What a developer without PostgreSQL (or Chromium, or the real FHIR server) sees from `dotnet test`.</summary>
public sealed class SkippedTestTests
{
    [Fact]
    public async Task ASkippedTestSaysWhyInTheDefaultTestOutput()
    {
        // This very assembly, run as `dotnet test` runs it with its default verbosity, on one test that needs PostgreSQL.
        var start = new ProcessStartInfo("dotnet", ["test", typeof(SkippedTestTests).Assembly.Location,
            "--filter", "FullyQualifiedName=CdsMitral.Tests.Http.HealthTests.ReadinessFailsWhenThePostgresStoreCannotBeReached"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove(Support.PostgresFactAttribute.Variable);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var printed = await output + await error;
        Assert.True(process.ExitCode == 0, printed);
        Assert.Contains("Skipped:     1", printed, StringComparison.Ordinal);
        Assert.Contains(printed.Split('\n'), line => line.Contains("Skipped ", StringComparison.Ordinal)
            && line.Contains("ReadinessFailsWhenThePostgresStoreCannotBeReached", StringComparison.Ordinal)
            && line.Contains("SKIPPED: no PostgreSQL server. Run `export CDSMITRAL_TEST_POSTGRES=$(bash .ci/postgres.sh)`", StringComparison.Ordinal));
    }
}
