using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CdsMitral.Cards;
using CdsMitral.Content;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsMitral.Bench;

/// <summary>One patient-view hook from request bytes to response bytes, without HTTP: parse, validate, unpack the
/// prefetch, snapshot, rules, cards, serialise. The work the service adds to each call (audit excluded).</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private byte[] _coapt = [];
    private byte[] _silent = [];
    private ServiceDefinition _service = null!;
    private InputGatherer _gatherer = null!;
    private SnapshotBuilder _snapshots = null!;
    private CardBuilder _cards = null!;

    [GlobalSetup]
    public void Setup()
    {
        _coapt = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        _silent = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: false).ToJsonString());
        var terminology = Terminology.Terminology.Embedded;
        _service = CdsServices.All(terminology)[0];
        var options = Options.Create(new CdsMitralOptions());
        // Everything is prefetched: the fetcher exists but is never called.
        var fetcher = new FhirFetcher(new HttpClient(), new FhirResilience(options, TimeProvider.System), options, NullLogger<FhirFetcher>.Instance);
        _gatherer = new InputGatherer(fetcher, options, TimeProvider.System);
        _snapshots = new SnapshotBuilder(terminology, new ClinicalOptions());
        _cards = new CardBuilder(terminology, ContentCatalog.Embedded);
        if (Run(_coapt).Length < 1000 || Run(_silent).Length > 20)
        {
            throw new InvalidOperationException("the requests do not give the cards they are meant to");
        }
    }

    [Benchmark(Description = "patient-view, COAPT-like (1 card)")]
    public byte[] CoaptLike() => Run(_coapt);

    [Benchmark(Description = "patient-view, silent (no card)")]
    public byte[] Silent() => Run(_silent);

    private byte[] Run(byte[] body)
    {
        var (request, document) = HookParsing.Parse(body);
        using var _ = document;
        var (context, _) = HookValidation.Validate(request!, _service);
        var gathered = _gatherer.GatherAsync(_service, request!, context!, CancellationToken.None).GetAwaiter().GetResult();
        var snapshot = _snapshots.Build(gathered.Record, Now);
        var evaluation = SecondaryMrRules.EvaluatePatientView(snapshot);
        var cards = _cards.Build(evaluation.Considerations, context!.PatientId, "https://cds.example.org", Guid.NewGuid);
        return JsonSerializer.SerializeToUtf8Bytes(new CdsResponse(cards), HookJson.Default.CdsResponse);
    }
}
