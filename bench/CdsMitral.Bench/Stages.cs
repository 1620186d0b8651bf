using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Rules;

namespace CdsMitral.Bench;

/// <summary>Where the pipeline's time and allocations go, stage by stage: each stage runs alone in a tight loop on the
/// previous stage's output, so its figures are not inflated by the other stages evicting the caches. A guide for
/// optimising; BenchmarkDotNet gives the authoritative totals.</summary>
public static class Stages
{
    public static void Run(int iterations = 5000)
    {
        var body = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        var (service, gatherer, snapshots, cardBuilder) = BenchPipeline.Create();
        var now = BenchPipeline.Now;
        Console.WriteLine($"request {body.Length / 1024.0:0.0} KB; each stage {iterations} times in a row (after at least a second to warm up), one thread");

        var (request, document) = HookParsing.Parse(body);
        using var keep = document;
        var context = HookValidation.Validate(request!, service).Context!;
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
