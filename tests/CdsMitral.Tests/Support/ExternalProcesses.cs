using System.Diagnostics;
using System.Text;

namespace CdsMitral.Tests.Support;

/// <summary>The cdsmitral command-line client, run as people run it: its own process, its exit code, its output.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CdsMitral.Cli.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        start.Environment["NO_COLOR"] = "1";
        start.Environment["COLUMNS"] = "160";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }
}

/// <summary>
/// A FHIR R4 server nobody here wrote: Medplum's router on its in-memory repository (tests/fhir-server), started on a
/// free loopback port with a bearer token — or, when CDSMITRAL_FHIR_SANDBOX_URL (and CDSMITRAL_FHIR_SANDBOX_TOKEN) are
/// set, that server instead.
/// </summary>
public sealed class RealFhirServer : IAsyncDisposable
{
    public const string UrlVariable = "CDSMITRAL_FHIR_SANDBOX_URL";
    public const string TokenVariable = "CDSMITRAL_FHIR_SANDBOX_TOKEN";
    private readonly Process? _process;

    private RealFhirServer(string baseUrl, string? token, Process? process)
    {
        BaseUrl = baseUrl;
        Token = token;
        _process = process;
    }

    public string BaseUrl { get; }
    public string? Token { get; }
    public bool External => _process is null;

    public static string Directory => Repo.PathOf("tests", "fhir-server");

    public static string? Unavailable =>
        Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } || System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "@medplum", "fhir-router"))
            ? null
            : $"SKIPPED: no real FHIR server. Run `npm ci` in tests/fhir-server (as .ci/run does), or set {UrlVariable} to your sandbox.";

    /// <param name="pageSize">When given, the local server pages its searches with next links.</param>
    /// <param name="local">Always tests/fhir-server (with its SMART endpoints), whatever CDSMITRAL_FHIR_SANDBOX_URL says.</param>
    public static async Task<RealFhirServer> StartAsync(int? pageSize = null, bool local = false)
    {
        if (!local && Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } external)
        {
            return new RealFhirServer(external.TrimEnd('/'), Environment.GetEnvironmentVariable(TokenVariable), null);
        }
        var token = "medplum-" + Guid.NewGuid().ToString("N");
        // npm ci installs the Node that Medplum supports (package.json pins it); the machine's own node is the fallback.
        var node = Path.Combine(Directory, "node_modules", ".bin", "node");
        var start = new ProcessStartInfo(File.Exists(node) ? node : "node", ["--experimental-websocket", "server.mjs"])
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PORT"] = "0";
        start.Environment["FHIR_TOKEN"] = token;
        if (pageSize is { } size)
        {
            start.Environment["PAGE_SIZE"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => errors.AppendLine(e.Data);
        process.BeginErrorReadLine();
        // Ready when it says where it listens; its output ends (and the wait with it) if it exits first. The guard only stops
        // a hung start from holding the run.
        using var timeout = new CancellationTokenSource(ServiceProcess.HangGuard);
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("listening on ", StringComparison.Ordinal))
            {
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep draining
                return new RealFhirServer(line["listening on ".Length..].Trim(), token, process);
            }
        }
        throw new InvalidOperationException($"the FHIR server did not start: {errors}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}
