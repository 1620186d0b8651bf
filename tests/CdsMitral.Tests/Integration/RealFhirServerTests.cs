using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>Two real FHIR servers (one paging with next links, one not) holding every sample, loaded with the CLI.</summary>
public sealed class LoadedFhirServers : IAsyncLifetime
{
    public RealFhirServer Plain { get; private set; } = null!;
    public RealFhirServer Paged { get; private set; } = null!;
    public IReadOnlyList<CliProcess.Result> Loads { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (RealFhirServer.Unavailable is not null)
        {
            return;
        }
        Plain = await RealFhirServer.StartAsync();
        Paged = Plain.External ? Plain : await RealFhirServer.StartAsync(pageSize: 2);
        var samples = Directory.GetFiles(Repo.PathOf("samples", "patients"), "*.json").Order(StringComparer.Ordinal).ToArray();
        var loads = new List<CliProcess.Result>();
        foreach (var server in new[] { Plain, Paged }.Distinct())
        {
            // As of the day the in-process service's clock reads, so that both paths see the same dates.
            loads.Add(await CliProcess.RunAsync(["load", server.BaseUrl, .. samples, "--json", "--as-of", ServiceFactory.Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), .. Token(server)]));
        }
        Loads = loads;
    }

    public static string[] Token(RealFhirServer server) => server.Token is null ? [] : ["--token", server.Token];

    public async Task DisposeAsync()
    {
        if (Paged is not null && !ReferenceEquals(Paged, Plain))
        {
            await Paged.DisposeAsync();
        }
        if (Plain is not null)
        {
            await Plain.DisposeAsync();
        }
    }
}

/// <summary>
/// The service against a FHIR server nobody here wrote: for every sample, the hook fired without prefetch — so the
/// service queries the server itself with a bearer token — gives the same cards as the hook with prefetch. The server
/// sorts by date text, does not page (or pages with next links), and answers unsupported searches with zero hits.
/// </summary>
public sealed class RealFhirServerTests(LoadedFhirServers servers) : IClassFixture<LoadedFhirServers>
{
    public static TheoryData<string> PrefetchRequests()
    {
        var data = new TheoryData<string>();
        foreach (var (file, _) in JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))!.AsObject())
        {
            if (file.EndsWith(".prefetch.json", StringComparison.Ordinal))
            {
                data.Add(file);
            }
        }
        return data;
    }

    [RealFhirFact]
    public void TheCliLoadedEverySampleIntoEachServer()
    {
        Assert.All(servers.Loads, load =>
        {
            Assert.True(load.ExitCode == 0, load.Error);
            var report = JsonNode.Parse(load.Output)!;
            Assert.Equal(16, report["patients"]!.AsArray().Count);
            Assert.True((int)report["created"]! + (int)report["updated"]! > 100);
        });
    }

    [RealFhirFact]
    public async Task LoadingAgainUpdatesAndNeverDuplicates()
    {
        var again = await CliProcess.RunAsync(["load", servers.Plain.BaseUrl, "coapt-profile", "--json", .. LoadedFhirServers.Token(servers.Plain)]);
        Assert.Equal(0, again.ExitCode);
        var report = JsonNode.Parse(again.Output)!;
        Assert.Equal(0, (int)report["created"]!);
        Assert.True((int)report["updated"]! > 0);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{servers.Plain.BaseUrl}/Observation?patient=coapt-profile");
        if (servers.Plain.Token is { } token)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        var bundle = JsonNode.Parse(await (await http.SendAsync(request)).Content.ReadAsStringAsync())!;
        var ids = bundle["entry"]!.AsArray().Select(e => (string)e!["resource"]!["id"]!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [RealFhirTheory]
    [MemberData(nameof(PrefetchRequests))]
    public async Task WithoutPrefetchTheServiceFetchesTheSameCardsFromTheRealServer(string prefetchFile)
    {
        var withPrefetch = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", prefetchFile)))!.AsObject();
        var serviceId = (string)JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))![prefetchFile]!["service"]!;
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:0:FhirServers:1", servers.Plain.BaseUrl);
        var expected = await service.PostAsync(serviceId, withPrefetch);
        Assert.Equal(200, expected.Status);

        foreach (var server in new[] { servers.Plain, servers.Paged })
        {
            var fetching = (JsonObject)withPrefetch.DeepClone();
            fetching.Remove("prefetch");
            fetching["fhirServer"] = server.BaseUrl;
            if (server.Token is { } token)
            {
                fetching["fhirAuthorization"] = new JsonObject { ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = 300, ["scope"] = "user/*.read", ["subject"] = "cdsmitral" };
            }
            var actual = await service.PostAsync(serviceId, fetching);
            Assert.True(actual.Status == 200, actual.Body);
            Assert.Equal(expected.RuleIds, actual.RuleIds);
            Assert.Equal(expected.Cards.Select(c => (string)c["summary"]!), actual.Cards.Select(c => (string)c["summary"]!));
        }
    }

    [RealFhirFact]
    public async Task AWrongTokenIsRefusedByTheServerAndTheHookAnswers412()
    {
        if (servers.Plain.External)
        {
            return; // an external sandbox may not check tokens the way this test needs
        }
        await using var service = new ServiceFactory();
        var request = Requests.PatientView("coapt-profile", fhirServer: servers.Plain.BaseUrl, accessToken: "not-the-token");
        var response = await service.PostAsync(Requests.PatientViewId, request);
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("HTTP 401", StringComparison.Ordinal));
    }

    [RealFhirFact]
    public async Task TheCliFiresHooksAgainstTheRunningServiceWithAndWithoutPrefetch()
    {
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["CdsMitral__Trust__UnverifiedFhirServers__0"] = servers.Plain.BaseUrl });
        var viaFhir = await CliProcess.RunAsync(["hook", service.BaseUrl, "--service", "secondary-mr-patient-view", "--patient", "coapt-profile",
            "--fhir", servers.Plain.BaseUrl, .. LoadedFhirServers.Token(servers.Plain)]);
        Assert.True(viaFhir.ExitCode == 0, viaFhir.Error);
        Assert.Contains("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg", viaFhir.Output, StringComparison.Ordinal);
        Assert.Contains("no prefetch: HTTP 200", viaFhir.Output, StringComparison.Ordinal);

        var viaPrefetch = await CliProcess.RunAsync(["hook", service.BaseUrl, "--service", "secondary-mr-order-select", "--patient", "outside-range-lvesd", "--prefetch", "--order", "teer", "--json"]);
        Assert.True(viaPrefetch.ExitCode == 0, viaPrefetch.Error);
        var cards = JsonNode.Parse(viaPrefetch.Output)!["cards"]!.AsArray();
        Assert.Equal("smr-outside-range", (string?)Assert.Single(cards)!["source"]!["topic"]!["code"]);
    }
}
