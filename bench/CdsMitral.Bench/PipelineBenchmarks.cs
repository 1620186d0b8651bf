using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CdsMitral.Hooks;
using CdsMitral.Rules;

namespace CdsMitral.Bench;

/// <summary>One patient-view hook from request bytes to response bytes, without HTTP: parse, validate, unpack the
/// prefetch, snapshot, rules, cards, serialise. The work the service adds to each call (audit excluded).</summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private byte[] _coapt = [];
    private byte[] _silent = [];
    private BenchPipeline _pipeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _coapt = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: true).ToJsonString());
        _silent = Encoding.UTF8.GetBytes(RealisticRequests.Build(coapt: false).ToJsonString());
        _pipeline = BenchPipeline.Create();
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
        var (context, _) = HookValidation.Validate(request!, _pipeline.Service);
        var gathered = _pipeline.Gatherer.GatherAsync(_pipeline.Service, request!, context!, CancellationToken.None).GetAwaiter().GetResult();
        var outcome = _pipeline.Evaluation.Evaluate(_pipeline.Service.Hook, context!, gathered.Record, BenchPipeline.Now, "https://cds.example.org", Guid.NewGuid);
        return JsonSerializer.SerializeToUtf8Bytes(new CdsResponse(outcome.Cards), HookJson.Default.CdsResponse);
    }
}
