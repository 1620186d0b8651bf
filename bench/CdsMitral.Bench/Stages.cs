using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Rules;

namespace CdsMitral.Bench;

/// <summary>Where the pipeline's time and allocations go, stage by stage (a guide for optimising; BenchmarkDotNet gives
/// the authoritative totals). Interleaving the stages inflates each one's time (caches are cold between them); the
/// tight loops at the end (typed records, snapshot of subsets) give truer figures.</summary>
public static class Stages
{
    public static void Run(int iterations = 3000)
    {
        var body = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        var (service, gatherer, snapshots, cardBuilder) = BenchPipeline.Create();
        var now = BenchPipeline.Now;
        var names = new[] { "parse request", "validate", "unpack prefetch", "snapshot", "rules", "cards", "serialise" };
        var ticks = new long[names.Length];
        var bytes = new long[names.Length];
        for (var i = 0; i < iterations + 200; i++)
        {
            var measure = i >= 200; // the first 200 warm up
            var stage = 0;
            var t = Stopwatch.GetTimestamp();
            var a = GC.GetAllocatedBytesForCurrentThread();
            void Mark()
            {
                if (measure)
                {
                    ticks[stage] += Stopwatch.GetTimestamp() - t;
                    bytes[stage] += GC.GetAllocatedBytesForCurrentThread() - a;
                }
                stage++;
                t = Stopwatch.GetTimestamp();
                a = GC.GetAllocatedBytesForCurrentThread();
            }
            var (parsedRequest, document) = HookParsing.Parse(body);
            var request = parsedRequest!;
            Mark();
            var (context, _) = HookValidation.Validate(request, service);
            Mark();
            var gathered = gatherer.GatherAsync(service, request, context!, CancellationToken.None).GetAwaiter().GetResult();
            Mark();
            var snapshot = snapshots.Build(gathered.Record, now);
            Mark();
            var evaluation = SecondaryMrRules.EvaluatePatientView(snapshot);
            Mark();
            var cards = cardBuilder.Build(evaluation.Considerations, context!.PatientId, "https://cds.example.org", Guid.NewGuid);
            Mark();
            _ = JsonSerializer.SerializeToUtf8Bytes(new CdsResponse(cards), HookJson.Default.CdsResponse);
            Mark();
            document.Dispose();
        }
        Console.WriteLine($"request {body.Length / 1024.0:0.0} KB; {iterations} iterations (after 200 to warm up), one thread");
        for (var s = 0; s < names.Length; s++)
        {
            Console.WriteLine($"{names[s],-16} {ticks[s] * 1e6 / Stopwatch.Frequency / iterations,8:0.0} µs {bytes[s] / 1024.0 / iterations,8:0.0} KB");
        }
        // How much of the snapshot is turning resources into typed records?
        var (probeRequest, probeDocument) = HookParsing.Parse(body);
        using var keep = probeDocument;
        var resources = gatherer.GatherAsync(service, probeRequest!, HookValidation.Validate(probeRequest!, service).Context!, CancellationToken.None)
            .GetAwaiter().GetResult().Record.Resources.Where(r => r.ResourceType == "Observation").ToList();
        var t0 = Stopwatch.GetTimestamp();
        var a0 = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            foreach (var r in resources)
            {
                _ = r.As(Fhir.FhirJson.Default.Observation);
            }
        }
        Console.WriteLine($"  of which {resources.Count} Observations as typed records: {Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1000 / iterations:0.0} µs {(GC.GetAllocatedBytesForCurrentThread() - a0) / 1024.0 / iterations:0.0} KB");
        // Which resources carry the snapshot's cost? Build it from subsets of the same record.
        var record = gatherer.GatherAsync(service, probeRequest!, HookValidation.Validate(probeRequest!, service).Context!, CancellationToken.None).GetAwaiter().GetResult().Record;
        foreach (var (label, include) in new (string, Func<Fhir.RawResource, bool>)[]
        {
            ("all resources", _ => true),
            ("observations only", r => r.ResourceType == "Observation"),
            ("medications only", r => r.ResourceType.StartsWith("Medication", StringComparison.Ordinal)),
            ("conditions + patient", r => r.ResourceType is "Condition" or "Patient"),
        })
        {
            var subset = record with { Resources = record.Resources.Where(include).ToList() };
            var t1 = Stopwatch.GetTimestamp();
            var a1 = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < iterations; i++)
            {
                _ = snapshots.Build(subset, now);
            }
            Console.WriteLine($"  snapshot of {label} ({subset.Resources.Count}): {Stopwatch.GetElapsedTime(t1).TotalMilliseconds * 1000 / iterations:0.0} µs {(GC.GetAllocatedBytesForCurrentThread() - a1) / 1024.0 / iterations:0.0} KB");
        }
        Console.WriteLine($"{"total",-16} {ticks.Sum() * 1e6 / Stopwatch.Frequency / iterations,8:0.0} µs {bytes.Sum() / 1024.0 / iterations,8:0.0} KB");
    }
}
