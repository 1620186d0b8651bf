using CdsMitral.Cards;
using CdsMitral.Content;
using CdsMitral.Hooks;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Bench;

/// <summary>The pieces of a patient-view hook, built as the service builds them, for the benchmarks.</summary>
public sealed record BenchPipeline(ServiceDefinition Service, InputGatherer Gatherer, SnapshotBuilder Snapshots, CardBuilder Cards, HookEvaluation Evaluation)
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static BenchPipeline Create()
    {
        var terminology = Terminology.Terminology.Embedded;
        var options = Options.Create(new CdsMitralOptions());
        // Everything is prefetched: the fetcher exists but is never called.
        var fetcher = new FhirFetcher(new HttpClient(), new FhirResilience(options, TimeProvider.System), options, NullLogger<FhirFetcher>.Instance);
        var snapshots = new SnapshotBuilder(terminology, new ClinicalOptions());
        var cards = new CardBuilder(terminology, ContentCatalog.Embedded);
        return new BenchPipeline(
            CdsServices.All(terminology)[0],
            new InputGatherer(fetcher, options, TimeProvider.System),
            snapshots,
            cards,
            new HookEvaluation(snapshots, cards, terminology));
    }
}
