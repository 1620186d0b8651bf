using System.Diagnostics;
using System.Text.Json;
using CdsMitral.Hooks;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Trust;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Bench;

/// <summary>
/// Fills an audit store with a year of a health system, in bulk, through the store's own append (so every event is
/// chained, keyed and indexed as the service would have it): hook calls from every sample request (most charts give
/// no card), spread over the year in time order, over tens of thousands of patients and thousands of users of two EHRs;
/// about one shown card in ten answered (seven overridden, three accepted) minutes later; and a stand-back for each
/// override given for an "already handled" reason. Run again on the same store, it adds more, later in the year.
/// </summary>
public static class AuditYear
{
    private sealed record Template(ServiceDefinition Service, HookRequest Request, HookContext Context, Service.Fhir.Gathered Gathered, JsonDocument Document);

    /// <param name="count">hook calls to add</param>
    /// <param name="seed">the random seed: another for each pass over the same store</param>
    /// <param name="start">the first call's time; the calls are spread evenly (with jitter) over the 365 days from there,
    /// so each pass is a year of its own size, and passes over one store add up to a busier year</param>
    public static async Task FillAsync(AuditOptions options, long count, int seed, DateTimeOffset start)
    {
        var db = new AuditDatabase(Options.Create(options));
        await db.MigrateAsync(CancellationToken.None);
        var (keys, errors, _) = AuditKeyring.Load(options, mayGenerate: false, generate: false);
        if (keys is null)
        {
            throw new InvalidOperationException(string.Join(" ", errors));
        }
        var store = new AuditStore(db, keys, new AuditCheckpoints(options.CheckpointFilePath, options.StoreIdentity));
        using var suppressions = new SuppressionStore(db, NullLogger<SuppressionStore>.Instance);
        var (pipeline, templates) = Templates();
        var random = new Random(seed);
        var spacing = TimeSpan.FromDays(365) / count;
        var issuers = new[] { "https://ehr-a.example.org", "https://ehr-b.example.org" };
        const int patients = 60_000, users = 2_500, batch = 2_000;
        var clock = Stopwatch.StartNew();
        var entries = new List<AuditEntry>(batch * 2);
        var later = new List<(DateTimeOffset At, AuditEntry Entry, Suppression? StandBack)>();
        var standBacks = new List<Suppression>();
        long hooks = 0, cards = 0, feedback = 0;
        for (long i = 0; i < count; i++)
        {
            var at = start + spacing * i + spacing * random.NextDouble();
            // A template by weight: most charts opened have no mitral data and give no card.
            var template = random.NextDouble() < 0.7 ? templates[0] : templates[1 + random.Next(templates.Count - 1)];
            var patient = $"Patient/p{random.Next(patients)}";
            var user = $"Practitioner/u{random.Next(users)}";
            var issuer = issuers[random.Next(issuers.Length)];
            var context = template.Context with { PatientId = patient.Split('/')[1], UserId = user };
            // Judged on the sample's own patient (an order names its patient; decision 20), recorded under the varied one.
            // The samples' echoes are dated for BenchPipeline.Now: judged then, so that each chart gives its cards.
            var outcome = pipeline.Evaluation.Evaluate(template.Service.Hook, template.Context, template.Gathered.Record, BenchPipeline.Now, "https://cds.example.org", Guid.CreateVersion7);
            var draft = new InvocationDraft(template.Service.Id, at)
            {
                Request = template.Request with { HookInstance = Guid.NewGuid().ToString() }, Context = context, Gathered = template.Gathered,
                Snapshot = outcome.Snapshot, Evaluation = outcome.Evaluation, Cards = outcome.Cards,
            };
            var client = new CallingClient(issuer, "bench EHR", Guid.NewGuid().ToString(), null, true);
            var hook = InvocationAudit.Entry(draft, client, 200, null, 3 + random.NextDouble() * 20);
            // Entries are appended in time order: feedback given minutes later waits for its turn.
            while (later.Count > 0 && later[0].At <= at)
            {
                entries.Add(later[0].Entry);
                if (later[0].StandBack is { } s)
                {
                    standBacks.Add(s);
                }
                later.RemoveAt(0);
            }
            entries.Add(hook);
            hooks++;
            foreach (var card in outcome.Cards)
            {
                cards++;
                if (random.NextDouble() >= 0.1)
                {
                    continue;
                }
                var overridden = random.NextDouble() < 0.7;
                var answeredAt = at + TimeSpan.FromSeconds(20 + random.Next(600));
                var reason = overridden ? new CdsMitral.Fhir.Coding("https://fhir.cdsmitral.org/CodeSystem/override-reason", random.NextDouble() < 0.5 ? "already-evaluated-hvt" : "action-not-priority", null) : null;
                var key = $"{issuer}|{card.Uuid}|{(overridden ? "overridden" : "accepted")}|{answeredAt:O}";
                var record = new FeedbackRecord(answeredAt, template.Service.Id, new AuditClient(issuer, "bench EHR", null, null, true), card.Uuid!,
                    overridden ? "overridden" : "accepted", overridden ? null : [card.Suggestions is [var first, ..] ? first.Uuid : ""], reason, null,
                    answeredAt.ToString("O"), hook.Id.ToString(), true, key);
                var entry = new AuditEntry(Guid.CreateVersion7(), EventKind.Feedback, answeredAt, JsonSerializer.Serialize(record, AuditJson.Default.FeedbackRecord), Feedback: record);
                var rule = outcome.Evaluation.Outcomes.First(o => o.RuleId == HookEvaluation.RuleOf(card));
                var standBack = reason?.Code == "already-evaluated-hvt" && rule.Fingerprint is { } fingerprint
                    ? new Suppression(key, entry.Id.ToString(), hook.Id.ToString(), card.Uuid!, StandBackScope.Of(issuer, null, template.Request.FhirServer),
                        context.PatientId, rule.RuleId, rule.Version, fingerprint, "overridden", reason, user, answeredAt, answeredAt.AddDays(180))
                    : null;
                later.Add((answeredAt, entry, standBack));
                later.Sort((a, b) => a.At.CompareTo(b.At));
                feedback++;
            }
            if (entries.Count >= batch || i == count - 1)
            {
                if (i == count - 1)
                {
                    entries.AddRange(later.Select(l => l.Entry));
                    standBacks.AddRange(later.Where(l => l.StandBack is not null).Select(l => l.StandBack!));
                }
                await store.AppendAsync(entries, CancellationToken.None);
                foreach (var s in standBacks)
                {
                    await suppressions.AddAsync(s, CancellationToken.None);
                }
                entries.Clear();
                standBacks.Clear();
                if ((i + 1) % 50_000 < batch)
                {
                    Console.Error.WriteLine($"  {i + 1:N0} calls ({hooks / clock.Elapsed.TotalSeconds:N0}/s)");
                }
            }
        }
        // The head the writer would have checkpointed: verification compares the chain with it.
        if (await store.CheckpointAsync(TimeProvider.System, CancellationToken.None) is { } checkpoint)
        {
            new AuditCheckpoints(options.CheckpointFilePath, options.StoreIdentity).Append(checkpoint);
        }
        foreach (var t in templates)
        {
            t.Document.Dispose();
        }
        Console.WriteLine($"FILL calls={hooks} cards={cards} feedback={feedback} seconds={clock.Elapsed.TotalSeconds:0.0}");
    }

    /// <summary>Every sample request, gathered once: the first gives no card (it is reused for most calls).</summary>
    private static (BenchPipeline, List<Template>) Templates()
    {
        var pipeline = BenchPipeline.Create();
        var registry = CdsServices.All(Terminology.Terminology.Embedded);
        var folder = Path.Combine(FindRepository(), "samples", "requests");
        var templates = new List<Template>();
        foreach (var file in Directory.GetFiles(folder, "*.prefetch.json").Order(StringComparer.Ordinal))
        {
            var (request, document) = HookParsing.Parse(File.ReadAllBytes(file));
            var service = registry.First(s => s.Hook == request!.Hook);
            var context = HookValidation.Validate(request!, service).Context!;
            var gathered = pipeline.Gatherer.GatherAsync(service, request!, context, CancellationToken.None).GetAwaiter().GetResult();
            var template = new Template(service, request!, context, gathered, document!);
            if (Silent(template, pipeline))
            {
                templates.Insert(0, template);
            }
            else
            {
                templates.Add(template);
            }
        }
        if (!Silent(templates[0], pipeline))
        {
            throw new InvalidOperationException("no sample request gives no card");
        }
        return (pipeline, templates);
    }

    private static bool Silent(Template t, BenchPipeline p) =>
        p.Evaluation.Evaluate(t.Service.Hook, t.Context, t.Gathered.Record, BenchPipeline.Now, "https://x", Guid.NewGuid).Cards.Count == 0;

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CdsMitral.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
