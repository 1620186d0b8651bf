using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace CdsMitral.Tests.Audit;

/// <summary>The service as a real process, killed with SIGKILL in the middle of a load of hooks.</summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KilledMidLoadEveryAnsweredCallHasItsRecordAndTheChainStillVerifies()
    {
        var data = Path.Combine(Path.GetTempPath(), "cdsmitral-crash", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var port = FreePort();
        using var service = Start(data, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await WaitUntilUp(http);

        var body = (string instance) => new StringContent(
            Requests.PatientView("p1", new Chart("p1").Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Prefetch(Terminology.Terminology.Embedded))
                .Apply(r => r["hookInstance"] = instance).ToJsonString(), Encoding.UTF8, "application/json");
        var acknowledged = new ConcurrentBag<string>();
        var failed = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested && i < 5000; i++)
            {
                var instance = $"crash-{w}-{i}";
                try
                {
                    using var response = await http.PostAsync("/cds-services/secondary-mr-patient-view", body(instance), stop.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add(instance);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
                {
                    Interlocked.Increment(ref failed); // the process died under this call: it was never acknowledged
                }
            }
        })).ToList();

        // Let the load run, then kill the process without warning (SIGKILL: no shutdown, no flush).
        while (acknowledged.Count < 300)
        {
            await Task.Delay(20);
        }
        service.Kill(entireProcessTree: true);
        await service.WaitForExitAsync();
        await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var options = Options.Create(new AuditOptions { ConnectionString = Path.Combine(data, "audit.db"), SpoolPath = Path.Combine(data, "spool.ndjson") });
        await using var db = new AuditDatabase(options);
        var store = new AuditStore(db);
        var recorded = new HashSet<string>();
        await using (var connection = await db.OpenAsync(CancellationToken.None))
        await using (var command = AuditDatabase.Command(connection, null, "SELECT hook_instance FROM invocations"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                recorded.Add(reader.GetString(0));
            }
        }
        var spooled = File.Exists(options.Value.SpoolPath) ? File.ReadAllLines(options.Value.SpoolPath).Length : 0;
        var missing = acknowledged.Where(a => !recorded.Contains(a)).ToList();
        var report = await store.VerifyAsync(TimeProvider.System, CancellationToken.None);
        output.WriteLine($"kill -9 after {acknowledged.Count} answered calls ({failed} refused or cut off by the kill): {recorded.Count} records in the store, {spooled} in the spool, " +
                         $"{missing.Count} answered calls without a record; chain {(report.Intact ? "intact" : "BROKEN: " + report.Problem)} over {report.Events} events");
        Assert.Empty(missing);
        Assert.True(report.Intact, report.Problem);
        Assert.True(recorded.Count >= acknowledged.Count);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(data, recursive: true);
    }

    private static Process Start(string data, int port)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "CdsMitral.Service.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "--environment", "Development", "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["CdsMitral__Audit__ConnectionString"] = Path.Combine(data, "audit.db");
        start.Environment["CdsMitral__Audit__SpoolPath"] = Path.Combine(data, "spool.ndjson");
        start.Environment["CdsMitral__Callers__PermitLimit"] = "1000000";
        start.Environment["Logging__LogLevel__Default"] = "Error";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilUp(HttpClient http)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync("/cds-services");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the service did not start");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal static class JsonNodeExtensions
{
    public static T Apply<T>(this T node, Action<T> change)
    {
        change(node);
        return node;
    }
}
