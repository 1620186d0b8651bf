using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Trust;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CdsMitral.Bench;

/// <summary>Where the pipeline's time and allocations go, stage by stage: each stage runs alone in a tight loop on the
/// previous stage's output, so its figures are not inflated by the other stages evicting the caches. A guide for
/// optimising; BenchmarkDotNet gives the authoritative totals.</summary>
public static class Stages
{
    public static void Run(int iterations = 5000, bool commitsOnly = false)
    {
        var body = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        var (service, gatherer, snapshots, cardBuilder, _) = BenchPipeline.Create();
        var now = BenchPipeline.Now;
        Console.WriteLine($"request {body.Length / 1024.0:0.0} KB; each stage {iterations} times in a row (after at least a second to warm up), one thread");

        var (request, document) = HookParsing.Parse(body);
        using var keep = document;
        var context = HookValidation.Validate(request!, service).Context!;
        if (commitsOnly)
        {
            var gathered = gatherer.GatherAsync(service, request!, context, CancellationToken.None).GetAwaiter().GetResult();
            var shot = snapshots.Build(gathered.Record, now);
            var judged = SecondaryMrRules.EvaluatePatientView(shot);
            var shown = cardBuilder.Build(judged.Considerations, context.PatientId, "https://cds.example.org", Guid.NewGuid);
            var one = InvocationAudit.Entry(new InvocationDraft("secondary-mr-patient-view", now)
            {
                Request = request, Context = context, Snapshot = shot, Evaluation = judged, Cards = shown, Gathered = gathered,
            }, new CallingClient("https://ehr.example.org", "bench", Guid.NewGuid().ToString(), null, true), 200, null, 1);
            Commits(one, iterations);
            return;
        }
        var record = gatherer.GatherAsync(service, request!, context, CancellationToken.None).GetAwaiter().GetResult().Record;
        var snapshot = snapshots.Build(record, now);
        var evaluation = SecondaryMrRules.EvaluatePatientView(snapshot);
        var cards = cardBuilder.Build(evaluation.Considerations, context.PatientId, "https://cds.example.org", Guid.NewGuid);

        var total = (Time: 0.0, Bytes: 0.0);
        void Stage(string name, Action work, bool counts = true)
        {
            var figure = Measure(work, iterations);
            Console.WriteLine($"{(counts ? "" : "  ")}{name,-34} {figure.Time,8:0.0} µs {figure.Bytes / 1024,8:0.0} KB");
            if (counts)
            {
                total = (total.Time + figure.Time, total.Bytes + figure.Bytes);
            }
        }
        Stage("parse request", () => HookParsing.Parse(body).Document.Dispose());
        Stage("of which the JsonDocument", () => JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false }).Dispose(), counts: false);
        Stage("  were duplicate keys allowed", () => JsonDocument.Parse(body).Dispose(), counts: false);
        // The body gate (Hosting/JsonBodies): UTF-8 and the escape scan always; the full walk only when an escape may be bad.
        Stage("  UTF-8 check + escape scan", () => _ = System.Text.Unicode.Utf8.IsValid(body) && JsonText.MayHoldBadEscape(body, nul: true), counts: false);
        var escaped = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"final\"", "\"final \\ud83d\\ude00\"", StringComparison.Ordinal));
        Stage("  full walk (body with valid pairs)", () => JsonText.FindInvalidUnicode(escaped, nul: true), counts: false);
        Stage("validate", () => HookValidation.Validate(request!, service));
        Stage("unpack prefetch", () => gatherer.GatherAsync(service, request!, context, CancellationToken.None).GetAwaiter().GetResult());
        Stage("snapshot", () => snapshots.Build(record, now));
        foreach (var (label, include) in new (string, Func<Fhir.RawResource, bool>)[]
        {
            ("observations", r => r.ResourceType == "Observation"),
            ("medications", r => r.ResourceType.StartsWith("Medication", StringComparison.Ordinal)),
            ("conditions + patient", r => r.ResourceType is "Condition" or "Patient"),
        })
        {
            var subset = record with { Resources = record.Resources.Where(include).ToList() };
            Stage($"snapshot of {label} only ({subset.Resources.Count})", () => snapshots.Build(subset, now), counts: false);
        }
        Stage("rules", () => SecondaryMrRules.EvaluatePatientView(snapshot));
        Stage("cards", () => cardBuilder.Build(evaluation.Considerations, context.PatientId, "https://cds.example.org", Guid.NewGuid));
        Stage("serialise", () => JsonSerializer.SerializeToUtf8Bytes(new CdsResponse(cards), HookJson.Default.CdsResponse));
        Console.WriteLine($"{"sum of stages",-34} {total.Time,8:0.0} µs {total.Bytes / 1024,8:0.0} KB");

        // The audit record of the same call, and what appending it costs (SQLite in a temporary folder, fsync included).
        var draft = new InvocationDraft("secondary-mr-patient-view", now)
        {
            Request = request, Context = context, Snapshot = snapshot, Evaluation = evaluation, Cards = cards,
            Gathered = gatherer.GatherAsync(service, request!, context, CancellationToken.None).GetAwaiter().GetResult(),
        };
        var client = new CallingClient("https://ehr.example.org", "bench", Guid.NewGuid().ToString(), null, true);
        var entry = InvocationAudit.Entry(draft, client, 200, null, 1);
        Console.WriteLine($"audit record {Encoding.UTF8.GetByteCount(entry.Document) / 1024.0:0.0} KB");
        Stage("  build and serialise the record", () => InvocationAudit.Entry(draft, client, 200, null, 1), counts: false);
        var key = AuditKeyring.Ephemeral().Current;
        var utf8 = Encoding.UTF8.GetBytes(entry.Document); // as the store signs it: the record's UTF-8
        Stage("  sign it into the chain (HMAC)", () => key.Sign(AuditStore.Genesis, 1, entry.Id.ToString(), entry.Kind, "2026-11-21T12:00:00.0000000Z", utf8), counts: false);
        Stage("  read by the insights fold (parse)", () => InsightsViews.Parse(entry.Id.ToString(), entry.Kind, entry.At, entry.Document), counts: false);
        // What a compressed document would cost to make, and (below) to append: the question of a store that keeps the
        // document compressed. Not what the store does.
        var packed = new byte[utf8.Length];
        int packedLength = 0;
        Stage("  compress it (Brotli, quality 1)", () => BrotliEncoder.TryCompress(utf8, packed, out packedLength, 1, 22), counts: false);
        Console.WriteLine($"  compressed: {packedLength / 1024.0:0.0} KB of {utf8.Length / 1024.0:0.0}");
        AuditAppends(entry);
        // The same appends with a document of the compressed size (its first bytes, still UTF-8: the store does not read it).
        Console.WriteLine($"  with a document of {packedLength / 1024.0:0.0} KB:");
        AuditAppends(new AuditEntry(entry.Id, entry.Kind, entry.At, utf8[..packedLength], entry.Invocation));
        InsightsFolds(entry);
    }

    /// <summary>The insights fold of the same record: its document read back and parsed (events this process did not
    /// commit: another instance's, or those before a restart), or its parts taken from the record just committed.</summary>
    private static void InsightsFolds(AuditEntry template)
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-bench-");
        try
        {
            var db = new AuditDatabase(Options.Create(new AuditOptions { ConnectionString = Path.Combine(folder.FullName, "audit.db") }));
            db.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            var store = new AuditStore(db, AuditKeyring.Ephemeral());
            // Each with cards of its own (a card is shown once), its document made from its record as the service makes it.
            var entries = Enumerable.Range(0, 2 * InsightsRollup.Chunk).Select(_ => template.Invocation! with
                {
                    Cards = template.Invocation.Cards!.Select(c => c with { Uuid = Guid.CreateVersion7().ToString() }).ToList(),
                })
                .Select(r => new AuditEntry(Guid.CreateVersion7(), EventKind.Hook, r.At, JsonSerializer.SerializeToUtf8Bytes(r, AuditJson.Default.InvocationRecord), r))
                .ToList();
            var appended = new List<AuditStore.Appended>();
            foreach (var batch in entries.Chunk(500))
            {
                appended.AddRange(store.AppendAsync(batch, CancellationToken.None).GetAwaiter().GetResult());
            }
            // Each way five times, in turn: the first runs are tier-0 code (they ran 1.5–2 times slower); the last are
            // the figures.
            foreach (var fromMemory in Enumerable.Range(0, 10).Select(i => i % 2 == 1))
            {
                using (var connection = db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult())
                {
                    foreach (var sql in new[] { "DELETE FROM insight_cards", "DELETE FROM insight_findings", "DELETE FROM insight_days", "UPDATE insight_state SET through_seq = 0" })
                    {
                        AuditDatabase.Execute(connection, null, sql, CancellationToken.None).GetAwaiter().GetResult();
                    }
                }
                var rollup = new InsightsRollup(db);
                if (fromMemory)
                {
                    rollup.Remember(entries, appended);
                }
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                rollup.FoldAsync(CancellationToken.None).GetAwaiter().GetResult();
                var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / entries.Count;
                Console.WriteLine($"  insights fold, {(fromMemory ? "from the records in memory" : "documents read back"),-27} {wall.Elapsed.TotalMicroseconds / entries.Count,8:0.0} µs per record ({cpuUs:0.0} µs CPU, {rollup.DocumentsReadBack} read back)");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Appends in batches, as the writer commits them under load: CPU and wall time per record.</summary>
    private static void AuditAppends(AuditEntry template)
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-bench-");
        try
        {
            var options = Options.Create(new AuditOptions { ConnectionString = Path.Combine(folder.FullName, "audit.db") });
            var db = new AuditDatabase(options);
            db.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            var store = new AuditStore(db, AuditKeyring.Ephemeral());
            using var connection = db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
            foreach (var batch in new[] { 1, 8, 32 })
            {
                var records = 0;
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                while (wall.Elapsed.TotalSeconds < 2)
                {
                    var entries = Enumerable.Range(0, batch).Select(_ => template with
                    {
                        Id = Guid.CreateVersion7(),
                        Invocation = template.Invocation! with { Cards = template.Invocation.Cards!.Select(c => c with { Uuid = Guid.CreateVersion7().ToString() }).ToList() },
                    }).ToList();
                    store.AppendAsync(connection, entries, CancellationToken.None).GetAwaiter().GetResult();
                    records += batch;
                }
                var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / records;
                Console.WriteLine($"  append, {batch,2} records per commit       {wall.Elapsed.TotalMicroseconds / records,8:0.0} µs per record ({cpuUs:0.0} µs CPU)");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>One record per commit, as at one connection: each record handed to the service's own writer and waited
    /// for, as a call waits (the floor under it is bench/fsync-floor.sh's write + fdatasync).</summary>
    private static void Commits(AuditEntry template, int count)
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-bench-");
        try
        {
            var postgres = Environment.GetEnvironmentVariable("AUDIT_POSTGRES");
            if (!string.IsNullOrEmpty(postgres))
            {
                var schema = $"bench_commits_{Guid.NewGuid():N}";
                using var admin = new Npgsql.NpgsqlConnection(postgres);
                admin.Open();
                using var create = new Npgsql.NpgsqlCommand($"CREATE SCHEMA {schema}", admin);
                create.ExecuteNonQuery();
                postgres += $";Search Path={schema}";
            }
            var options = Options.Create(new AuditOptions
            {
                Store = string.IsNullOrEmpty(postgres) ? AuditStoreKind.Sqlite : AuditStoreKind.PostgreSql,
                ConnectionString = string.IsNullOrEmpty(postgres) ? Path.Combine(folder.FullName, "audit.db") : postgres,
                SpoolPath = Path.Combine(folder.FullName, "spool"),
                CheckpointPath = Path.Combine(folder.FullName, "checkpoints"), CheckpointInterval = TimeSpan.FromHours(1),
            });
            var db = new AuditDatabase(options);
            var store = new AuditStore(db, AuditKeyring.Ephemeral());
            using var writer = new AuditWriter(store, db, options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditWriter>.Instance);
            writer.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            var times = new double[count];
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = -count / 5; i < count; i++) // the first fifth warms up
            {
                var entry = template with
                {
                    Id = Guid.CreateVersion7(),
                    Invocation = template.Invocation! with { Cards = template.Invocation.Cards!.Select(c => c with { Uuid = Guid.CreateVersion7().ToString() }).ToList() },
                };
                if (i == 0)
                {
                    cpu = Process.GetCurrentProcess().TotalProcessorTime;
                }
                var t = Stopwatch.GetTimestamp();
                writer.WriteAsync(entry).GetAwaiter().GetResult();
                if (i >= 0)
                {
                    times[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                }
            }
            var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / count;
            writer.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            if (!writer.StoreHealthy)
            {
                throw new InvalidOperationException("the records went to the spool, not the store");
            }
            var mean = times.Average();
            Array.Sort(times);
            Console.WriteLine($"COMMIT store={options.Value.Store} records_per_commit=1 count={count} mean_us={mean:0} p50_us={times[count / 2]:0} p90_us={times[count * 9 / 10]:0} p99_us={times[count * 99 / 100]:0} cpu_us={cpuUs:0} load={File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The stand-back lookup (suppressions in force for the rules that fired, for this patient) as a hook with
    /// cards makes it on SQLite: from memory once the table has been read (it was a pooled connection and a SELECT per
    /// call until 2026-11-28), none found. Time and allocations per lookup; the pooled open beside it for comparison.</summary>
    public static void StandBack(int iterations)
    {
        var folder = Directory.CreateTempSubdirectory("cdsmitral-bench-");
        try
        {
            var options = Options.Create(new AuditOptions { ConnectionString = Path.Combine(folder.FullName, "audit.db") });
            var db = new AuditDatabase(options);
            db.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            using var suppressions = new SuppressionStore(db, Microsoft.Extensions.Logging.Abstractions.NullLogger<SuppressionStore>.Instance);
            string[] rules = ["smr-coapt-profile", "smr-gdmt-gap"];
            var now = DateTimeOffset.UtcNow;
            var lookup = Measure(() => suppressions.InForceAsync(StandBackScope.Of("https://ehr.example.org", null, "https://ehr.example.org/fhir"), "p1", rules, now, CancellationToken.None).GetAwaiter().GetResult(), iterations);
            var open = Measure(() => db.OpenAsync(CancellationToken.None).GetAwaiter().GetResult().Dispose(), iterations);
            Console.WriteLine($"STANDBACK lookup_us={lookup.Time:0.0} lookup_bytes={lookup.Bytes:0} of_which_open_us={open.Time:0.0} open_bytes={open.Bytes:0} load={File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static (double Time, double Bytes) Measure(Action work, int iterations)
    {
        // Warm up for a second at least: tiered JIT promotes hot methods in the background, and a stage measured before
        // that finishes looks twice as slow as it is.
        var warm = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations / 10 || Stopwatch.GetElapsedTime(warm).TotalSeconds < 1; i++)
        {
            work();
        }
        var t = Stopwatch.GetTimestamp();
        var a = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            work();
        }
        return (Stopwatch.GetElapsedTime(t).TotalMicroseconds / iterations, (GC.GetAllocatedBytesForCurrentThread() - a) / (double)iterations);
    }
}
