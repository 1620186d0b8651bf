using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CdsMitral.Tests.Support;

/// <summary>The service as its own process on a loopback port: what a browser, or kill -9, needs.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, int port, string dataDirectory)
    {
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string DataDirectory { get; }
    public HttpClient Http { get; }

    /// <summary>What the process wrote to stdout so far (its log: one JSON object a line).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; private init; } = new();

    /// <summary>Starts the built service in the Development environment (no client JWT), with its audit trail in a fresh folder.</summary>
    /// <summary>Starts the service with settings it should refuse; returns its exit code and what it said on stderr.</summary>
    public static async Task<(int ExitCode, string Error)> FailToStartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CdsMitral.Service.dll"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(HangGuard);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await error);
    }

    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string environment = "Development")
    {
        var data = Path.Combine(Path.GetTempPath(), "cdsmitral-process", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CdsMitral.Service.dll"), "--environment", environment, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["CdsMitral__Audit__ConnectionString"] = Path.Combine(data, "audit.db");
        start.Environment["CdsMitral__Audit__SpoolPath"] = Path.Combine(data, "spool.ndjson");
        start.Environment["CdsMitral__Callers__PermitLimit"] = "1000000";
        start.Environment["Logging__LogLevel__Default"] = "Error";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                output.Enqueue(line.Data);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, port, data) { Output = output };
        // Ready is when it answers, however long a loaded machine takes; a process that exits ends the wait at once. The
        // guard only stops a hung start from holding the run (a fixed 15 s here failed on a loaded machine).
        var guard = Stopwatch.StartNew();
        while (!process.HasExited && guard.Elapsed < HangGuard)
        {
            try
            {
                using var response = await service.Http.GetAsync("/health/live");
                if (response.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        var exited = process.HasExited ? $"exited with {process.ExitCode}" : $"did not answer /health/live within {HangGuard.TotalMinutes} minutes";
        await service.DisposeAsync();
        throw new TimeoutException($"the service process {exited}");
    }

    /// <summary>How long a start may take before it counts as hung: a guard, not an expectation.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync(_process, DataDirectory);
    }

    /// <summary>Kills a process and everything it started, then removes its data folder (its SQLite files closed first).</summary>
    internal static async Task StopAsync(Process process, string dataDirectory)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
