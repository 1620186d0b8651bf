using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Samples;

public sealed class SampleTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    [Fact]
    public void TheCommittedSamplesMatchTheirDefinition()
    {
        var rendered = SampleFiles.Render();
        var directory = Repo.PathOf("samples");
        if (Environment.GetEnvironmentVariable("CDSMITRAL_WRITE_SAMPLES") == "1")
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            foreach (var (path, text) in rendered)
            {
                var full = Path.Combine(directory, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, text);
            }
        }
        var onDisk = Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(rendered.Keys, onDisk);
        Assert.All(rendered, kv => Assert.True(File.ReadAllText(Path.Combine(directory, kv.Key)) == kv.Value,
            $"samples/{kv.Key} differs from SamplePatients.cs; regenerate with CDSMITRAL_WRITE_SAMPLES=1"));
    }

    [Fact]
    public void ThereAreAtLeastTenPatientsCoveringEveryRuleAndTheSilentCases()
    {
        Assert.True(SamplePatients.All.Count >= 10);
        var fired = SamplePatients.All.SelectMany(p => p.Requests).SelectMany(r => r.ExpectedRules).ToHashSet();
        Assert.Equal(Rules.SecondaryMrRules.All.Select(r => r.Id).Order(), fired.Order());
        Assert.True(SamplePatients.All.Count(p => p.Requests.Any(r => r.ExpectedRules.Length == 0)) >= 3);
    }

    public static TheoryData<string> RequestFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))!.AsObject().Select(kv => kv.Key))
        {
            data.Add(file);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RequestFiles))]
    public async Task EachSampleRequestProducesTheCardsTheReadmeTableSays(string file)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))![file]!;
        var request = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", file)))!.AsObject();
        await using var fhir = await FakeFhirServer.StartAsync();
        if (request["prefetch"] is null)
        {
            // Without prefetch, the service reads the patient from a FHIR server holding the sample's transaction Bundle.
            var bundle = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", (string)expected["patient"]!)))!;
            fhir.Add(bundle["entry"]!.AsArray().Select(e => e!["resource"]!.AsObject()));
            request["fhirServer"] = fhir.BaseUrl;
        }
        var response = await service.PostAsync((string)expected["service"]!, request);
        Assert.Equal(200, response.Status);
        Assert.Equal(expected["expectedRules"]!.AsArray().Select(r => (string)r!), response.RuleIds);
    }
}
