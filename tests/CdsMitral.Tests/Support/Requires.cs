using Microsoft.Playwright;

namespace CdsMitral.Tests.Support;

/// <summary>
/// What a test needs from the machine, said on its first line. Where it is missing, the test is skipped with the reason
/// and the command that provides it (xunit.v3's <see cref="Assert.Skip"/>); .ci/run provides all of them.
/// </summary>
public static class Requires
{
    public const string PostgresVariable = "CDSMITRAL_TEST_POSTGRES";

    public static string? PostgresMissing => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable))
        ? $"SKIPPED: no PostgreSQL server. Run `export {PostgresVariable}=$(bash .ci/postgres.sh)` to test the PostgreSQL audit store."
        : null;

    public static string? ChromiumMissing => File.Exists(Support.Chromium.Executable) ? null
        : $"SKIPPED: no browser at {Support.Chromium.Executable}. Install Debian's chromium (apt-get install chromium) to run the browser tests.";

    public static string? SandboxEhrMissing => Directory.Exists(Path.Combine(RealFhirServer.Directory, "node_modules", "@medplum", "fhir-router")) ? null
        : "SKIPPED: the sandbox EHR is not installed. Run `npm ci` in tests/fhir-server (as .ci/run does).";

    public static string? ContainerToolsMissing =>
        new[] { "podman", "mmdebstrap", "runc" }.Where(tool => !File.Exists($"/usr/bin/{tool}")).ToList() is { Count: > 0 } missing
            ? $"SKIPPED: {string.Join(", ", missing)} not installed (apt-get install podman mmdebstrap runc; .ci/run does)."
            : null;

    public static void Postgres() => SkipIf(PostgresMissing);

    public static void Chromium() => SkipIf(ChromiumMissing);

    public static void RealFhir() => SkipIf(RealFhirServer.Unavailable);

    public static void RealFhirAndChromium() => SkipIf(RealFhirServer.Unavailable ?? ChromiumMissing);

    public static void SandboxEhr(bool browser = true) => SkipIf(SandboxEhrMissing ?? (browser ? ChromiumMissing : null));

    public static void ContainerTools() => SkipIf(ContainerToolsMissing);

    /// <summary>The store a scenario runs on, once it is there.</summary>
    public static Store Available(Store store)
    {
        if (store == Store.Postgres)
        {
            Postgres();
        }
        return store;
    }

    private static void SkipIf(string? why)
    {
        if (why is not null)
        {
            Assert.Skip(why);
        }
    }
}

/// <summary>Debian's Chromium, for the tests that drive a real browser.</summary>
public static class Chromium
{
    public const string Executable = "/usr/bin/chromium";

    /// <summary>Headless and quiet: no sandbox (tests may run as root), no GPU, QUIC, first-run or background traffic.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Executable,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
}
