using System.Diagnostics.Tracing;
using System.Text;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Trust;

namespace CdsMitral.Bench;

/// <summary>Which types the pipeline's bytes go to: the runtime's allocation sampling (GCAllocationTick, one event about
/// every 100 KB, naming the type that crossed the line) while one stage, or the whole hook, runs in a loop. Sampled
/// bytes are proportional to allocated bytes over many iterations; a guide to where to cut, not a total.</summary>
public static class AllocationTypes
{
    public static void Run(string stage, double seconds = 5)
    {
        var body = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        var p = BenchPipeline.Create();
        var (request, document) = HookParsing.Parse(body);
        using var keep = document;
        var context = HookValidation.Validate(request!, p.Service).Context!;
        var gathered = p.Gatherer.GatherAsync(p.Service, request!, context, CancellationToken.None).GetAwaiter().GetResult();
        var outcome = p.Evaluation.Evaluate(p.Service.Hook, context, gathered.Record, BenchPipeline.Now, "https://cds.example.org", Guid.NewGuid);
        var client = new CallingClient("https://ehr.example.org", "bench", Guid.NewGuid().ToString(), null, true);
        InvocationDraft Draft() => new("secondary-mr-patient-view", BenchPipeline.Now)
        {
            Request = request, Context = context, Snapshot = outcome.Snapshot, Evaluation = outcome.Evaluation, Cards = outcome.Cards, Gathered = gathered,
        };
        Action work = stage switch
        {
            "unpack" => () => p.Gatherer.GatherAsync(p.Service, request!, context, CancellationToken.None).GetAwaiter().GetResult(),
            "snapshot" => () => p.Snapshots.Build(gathered.Record, BenchPipeline.Now),
            "rules" => () => Rules.SecondaryMrRules.Evaluate(new Rules.RuleContext(outcome.Snapshot, p.Service.Hook, [])),
            "fingerprint" => () => InputFingerprint.Stamp(outcome.Evaluation),
            "cards" => () => p.Cards.Build(outcome.Evaluation.Considerations, context.PatientId, "https://cds.example.org", Guid.NewGuid),
            "audit" => () => InvocationAudit.Entry(Draft(), client, 200, null, 1),
            _ => () =>
            {
                var (r, d) = HookParsing.Parse(body);
                using var _ = d;
                var c = HookValidation.Validate(r!, p.Service).Context!;
                var g = p.Gatherer.GatherAsync(p.Service, r!, c, CancellationToken.None).GetAwaiter().GetResult();
                var o = p.Evaluation.Evaluate(p.Service.Hook, c, g.Record, BenchPipeline.Now, "https://cds.example.org", Guid.NewGuid);
                JsonSerializer.SerializeToUtf8Bytes(new CdsResponse(o.Cards), HookJson.Default.CdsResponse);
                InvocationAudit.Entry(new InvocationDraft("secondary-mr-patient-view", BenchPipeline.Now)
                {
                    Request = r, Context = c, Snapshot = o.Snapshot, Evaluation = o.Evaluation, Cards = o.Cards, Gathered = g,
                }, client, 200, null, 1);
            },
        };
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2)
        {
            work();
        }
        using var listener = new Listener();
        var iterations = 0;
        var a = GC.GetAllocatedBytesForCurrentThread();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            work();
            iterations++;
        }
        var perIteration = (GC.GetAllocatedBytesForCurrentThread() - a) / (double)iterations;
        Thread.Sleep(500); // the listener's events arrive on another thread
        var tally = listener.Snapshot();
        var sampled = tally.Values.Sum();
        Console.WriteLine($"ALLOCATION TYPES stage={stage} iterations={iterations} per_iteration_kb={perIteration / 1024:0.0} samples_kb={sampled / 1024}");
        foreach (var (type, bytes) in tally.OrderByDescending(kv => kv.Value).Take(40))
        {
            Console.WriteLine($"{bytes * 100.0 / sampled,6:0.0} %  {perIteration * bytes / sampled / 1024,7:0.00} KB  {type}");
        }
    }

    private sealed class Listener : EventListener
    {
        private readonly Dictionary<string, long> _bytes = [];

        public Dictionary<string, long> Snapshot()
        {
            lock (_bytes)
            {
                return new(_bytes);
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword, verbose: AllocationTick
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
            {
                return;
            }
            var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
            var amount = e.PayloadNames!.IndexOf("AllocationAmount64") is var i and >= 0 ? Convert.ToInt64(e.Payload[i], System.Globalization.CultureInfo.InvariantCulture) : 0;
            lock (_bytes)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}
