using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.Options;

namespace CdsMitral.Tests.Audit;

/// <summary>The service as a real process, killed with SIGKILL in the middle of a load of hooks.</summary>
[Slow]
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KilledMidLoadEveryAnsweredCallHasItsRecordAndTheChainStillVerifies()
    {
        await using var service = await ServiceProcess.StartAsync();
        var http = service.Http;
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
        await service.KillAsync();
        await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var options = Options.Create(new AuditOptions { ConnectionString = Path.Combine(service.DataDirectory, "audit.db"), SpoolPath = Path.Combine(service.DataDirectory, "spool.ndjson") });
        await using var db = new AuditDatabase(options);
        // The key the service made for itself on first start (Development), and the checkpoints it wrote beside the data.
        var keys = AuditKeyring.Load(options.Value, mayGenerate: false, generate: false).Keyring!;
        var store = new AuditStore(db, keys, new AuditCheckpoints(options.Value.CheckpointFilePath, options.Value.StoreIdentity));
        // What the next start does first: the index rows of calls answered but not yet indexed when the kill came are
        // rebuilt from their chained events.
        var restart = new AuditWriter(store, db, options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditWriter>.Instance);
        await restart.StartAsync(CancellationToken.None);
        await restart.StopAsync(CancellationToken.None);
        restart.Dispose();
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
        var report = await store.VerifyAsync(TimeProvider.System, full: true, CancellationToken.None);
        output.WriteLine($"kill -9 after {acknowledged.Count} answered calls ({failed} refused or cut off by the kill): {recorded.Count} records in the store, {spooled} in the spool, " +
                         $"{missing.Count} answered calls without a record; chain {(report.Intact ? "intact" : "BROKEN: " + report.Problem)} over {report.Events} events");
        Assert.Empty(missing);
        Assert.True(report.Intact, report.Problem);
        Assert.True(recorded.Count >= acknowledged.Count);
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
