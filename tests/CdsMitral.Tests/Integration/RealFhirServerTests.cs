using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>Two real FHIR servers (one paging with next links, one not) holding every sample, loaded with the CLI.</summary>
public sealed class LoadedFhirServers : IAsyncLifetime
{
    /// <summary>Small enough that most samples' searches need several pages.</summary>
    public const int PageSize = 2;

    public RealFhirServer Plain { get; private set; } = null!;
    public RealFhirServer Paged { get; private set; } = null!;
    public IReadOnlyList<CliProcess.Result> Loads { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        if (RealFhirServer.Unavailable is not null)
        {
            return;
        }
        Plain = await RealFhirServer.StartAsync();
        Paged = Plain.External ? Plain : await RealFhirServer.StartAsync(pageSize: PageSize);
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

    /// <summary>How many search pages the local server has served through a next link (offset > 0) so far.</summary>
    public static async Task<int> LaterPagesServedAsync(RealFhirServer server)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(server.BaseUrl[..^"/fhir".Length] + "/__stats");
        // A server that cannot say served none as far as the test knows; the audit then has to agree.
        return response.IsSuccessStatusCode ? (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["laterPages"]! : 0;
    }

    public async ValueTask DisposeAsync()
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
[Slow]
public sealed partial class RealFhirServerTests(LoadedFhirServers servers) : IClassFixture<LoadedFhirServers>
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

    [Fact]
    public void TheCliLoadedEverySampleIntoEachServer()
    {
        Requires.RealFhir();
        Assert.All(servers.Loads, load =>
        {
            Assert.True(load.ExitCode == 0, load.Error);
            var report = JsonNode.Parse(load.Output)!;
            Assert.Equal(Directory.EnumerateFiles(Repo.PathOf("samples", "patients"), "*.json").Count(), report["patients"]!.AsArray().Count);
            Assert.True((int)report["created"]! + (int)report["updated"]! > 100);
        });
    }

    [Fact]
    public async Task LoadingAgainUpdatesAndNeverDuplicates()
    {
        Requires.RealFhir();
        // As of the fixture's day: loaded as of today instead, the chart's dates would move and the other tests of this class,
        // which compare with prefetch as of that day, would read the moved echo when they run after this one.
        var again = await CliProcess.RunAsync(["load", servers.Plain.BaseUrl, "coapt-profile", "--json",
            "--as-of", ServiceFactory.Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), .. LoadedFhirServers.Token(servers.Plain)]);
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

    [Theory]
    [MemberData(nameof(PrefetchRequests))]
    public async Task WithoutPrefetchTheServiceFetchesTheSameCardsFromTheRealServer(string prefetchFile)
    {
        Requires.RealFhir();
        var withPrefetch = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", prefetchFile)))!.AsObject();
        var serviceId = (string)JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))![prefetchFile]!["service"]!;
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:0:FhirServers:1", servers.Plain.BaseUrl).Audited(Store.Sqlite);
        var expected = await service.PostAsync(serviceId, withPrefetch);
        Assert.Equal(200, expected.Status);

        foreach (var server in new[] { servers.Plain, servers.Paged })
        {
            var servedBefore = server.External ? 0 : await LoadedFhirServers.LaterPagesServedAsync(server);
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
            if (server.External)
            {
                continue;
            }
            // The audit's query report says which pages the service read; the server says which it served.
            var record = await LatestRecordAsync(service);
            var laterPagesRead = record["queries"]!.AsArray().Count(q => LaterPage().IsMatch((string)q!["url"]!));
            Assert.Equal(await LoadedFhirServers.LaterPagesServedAsync(server) - servedBefore, laterPagesRead);
            if (ReferenceEquals(server, servers.Plain))
            {
                Assert.Equal(0, laterPagesRead);
                continue;
            }
            // Every search that found more than a page's worth was read to its end, one short page at a time.
            var plain = await PlainKeysAsync(service);
            foreach (var (key, found) in plain.Where(k => k.Found > LoadedFhirServers.PageSize))
            {
                Assert.Equal(found, (int)record["prefetch"]!.AsArray().Single(k => (string)k!["key"]! == key)!["resources"]!);
            }
            var pagesNeeded = plain.Sum(k => Math.Max(0, (k.Found - 1) / LoadedFhirServers.PageSize));
            Assert.True(laterPagesRead >= pagesNeeded, $"read {laterPagesRead} later pages, needed at least {pagesNeeded}");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[?&]_offset=[1-9]")]
    private static partial System.Text.RegularExpressions.Regex LaterPage();

    /// <summary>The service's audit records, oldest first: the prefetch run, the plain server's, then the paged server's.</summary>
    private static async Task<List<JsonNode>> RecordsAsync(ServiceFactory service)
    {
        var records = new List<(long Seq, JsonNode Record)>();
        foreach (var item in (await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray())
        {
            var stored = await service.AuditApi($"/audit/api/invocations/{item!["eventId"]}");
            records.Add(((long)stored["seq"]!, stored["record"]!));
        }
        return [.. records.OrderBy(r => r.Seq).Select(r => r.Record)];
    }

    private static async Task<JsonNode> LatestRecordAsync(ServiceFactory service) => (await RecordsAsync(service))[^1];

    /// <summary>What each fetched key found on the plain server, from the audit of the run before the paged one.</summary>
    private static async Task<List<(string Key, int Found)>> PlainKeysAsync(ServiceFactory service)
    {
        var plain = (await RecordsAsync(service))[^2];
        return [.. plain["prefetch"]!.AsArray()
            .Where(k => (string?)k!["source"] is "fetched" or "Fetched")
            .Select(k => ((string)k!["key"]!, (int)k["resources"]!))];
    }

    [Fact]
    public async Task AWrongTokenIsRefusedByTheServerAndTheHookAnswers412()
    {
        Requires.RealFhir();
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

    [Fact]
    public async Task TheCliFiresHooksAgainstTheRunningServiceWithAndWithoutPrefetch()
    {
        Requires.RealFhir();
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

    [Fact]
    public async Task TheServerDescribesItselfWithAnR4CapabilityStatement()
    {
        Requires.RealFhir();
        // Without a token: the CDS Hooks Sandbox reads /metadata first, and hung when it got a search Bundle here.
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{servers.Plain.BaseUrl}/metadata");
        Assert.Equal(200, (int)response.StatusCode);
        var capabilities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("CapabilityStatement", (string?)capabilities["resourceType"]);
        Assert.Equal("4.0.1", (string?)capabilities["fhirVersion"]);
        var rest = Assert.Single(capabilities["rest"]!.AsArray())!;
        Assert.Equal("server", (string?)rest["mode"]);
        var observation = rest["resource"]!.AsArray().Single(r => (string?)r!["type"] == "Observation")!;
        Assert.Contains("search-type", observation["interaction"]!.AsArray().Select(i => (string?)i!["code"]));
        Assert.Contains("patient", observation["searchParam"]!.AsArray().Select(p => (string?)p!["name"]));
    }

    [Fact]
    public async Task AFormEncodedSearchByPostFindsWhatTheSameSearchByGetFinds()
    {
        Requires.RealFhir();
        const string Query = "patient=coapt-profile&code=http://loinc.org|79991-6,http://loinc.org|29438-9,http://loinc.org|8440-0";
        var byGet = await SendAsync(servers.Plain, HttpMethod.Get, $"/Observation?{Query}");
        var byPost = await SendAsync(servers.Plain, HttpMethod.Post, "/Observation/_search", new FormUrlEncodedContent(
            Query.Split('&').Select(p => new KeyValuePair<string, string>(p[..p.IndexOf('=', StringComparison.Ordinal)], p[(p.IndexOf('=', StringComparison.Ordinal) + 1)..]))));
        Assert.Equal(200, byPost.Status);
        Assert.NotEmpty(byGet.Ids);
        Assert.Equal(byGet.Ids.Order(StringComparer.Ordinal), byPost.Ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ABrowserOnAnotherOriginIsAllowedAfterAPreflightWithoutAToken()
    {
        Requires.RealFhir();
        if (servers.Plain.External)
        {
            return; // a team's own sandbox sets its own CORS policy
        }
        const string Origin = "http://localhost:8080";
        using var http = new HttpClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, $"{servers.Plain.BaseUrl}/Observation/_search");
        preflight.Headers.Add("Origin", Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var answer = await http.SendAsync(preflight);
        Assert.Equal(204, (int)answer.StatusCode);
        Assert.Equal(Origin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", answer.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("authorization", answer.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);

        foreach (var path in new[] { "/metadata", "/Patient/coapt-profile" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, servers.Plain.BaseUrl + path);
            request.Headers.Add("Origin", Origin);
            request.Headers.Authorization = new("Bearer", servers.Plain.Token);
            using var response = await http.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(Origin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
    }

    [Fact]
    public async Task ThePagedServerServesShortPagesWhoseNextLinksLeadToEveryResult()
    {
        Requires.RealFhir();
        if (servers.Paged.External)
        {
            return; // only the local server's page size is known
        }
        var whole = await SendAsync(servers.Plain, HttpMethod.Get, "/Observation?patient=coapt-profile");
        Assert.True(whole.Ids.Count > 2 * LoadedFhirServers.PageSize, $"the sample has only {whole.Ids.Count} observations");

        var ids = new List<string>();
        var pages = 0;
        string? next = $"{servers.Paged.BaseUrl}/Observation?patient=coapt-profile";
        while (next is not null)
        {
            var page = await SendAsync(servers.Paged, HttpMethod.Get, next);
            Assert.Equal(200, page.Status);
            Assert.InRange(page.Ids.Count, 1, LoadedFhirServers.PageSize);
            Assert.Equal(whole.Ids.Count, (int)page.Bundle["total"]!);
            ids.AddRange(page.Ids);
            pages++;
            next = page.Bundle["link"]?.AsArray().Where(l => (string?)l!["relation"] == "next").Select(l => (string?)l!["url"]).SingleOrDefault();
        }
        Assert.Equal((whole.Ids.Count + LoadedFhirServers.PageSize - 1) / LoadedFhirServers.PageSize, pages);
        Assert.Equal(whole.Ids.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record SearchAnswer(int Status, JsonNode Bundle, List<string> Ids);

    private static async Task<SearchAnswer> SendAsync(RealFhirServer server, HttpMethod method, string pathOrUrl, HttpContent? content = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, pathOrUrl.StartsWith("http", StringComparison.Ordinal) ? pathOrUrl : server.BaseUrl + pathOrUrl) { Content = content };
        if (server.Token is { } token)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        using var response = await http.SendAsync(request);
        var bundle = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var ids = bundle["entry"]?.AsArray().Where(e => (string?)e!["search"]?["mode"] is null or "match").Select(e => (string)e!["resource"]!["id"]!).ToList() ?? [];
        return new SearchAnswer((int)response.StatusCode, bundle, ids);
    }

    [Fact]
    public async Task TheServerRunsOnANodeThatItsMedplumSupports()
    {
        Requires.RealFhir();
        if (servers.Plain.External)
        {
            return;
        }
        using var http = new HttpClient();
        var stats = JsonNode.Parse(await http.GetStringAsync(servers.Plain.BaseUrl[..^"/fhir".Length] + "/__stats"))!;
        // @medplum/core 5.2.13 declares "node": "^22.18.0 || >=24.2.0"; npm ci installs Node 22 beside it.
        var version = Version.Parse((string)stats["node"]!);
        Assert.True(version >= new Version(24, 2) || (version.Major == 22 && version >= new Version(22, 18)), $"the FHIR server runs on Node {version}");
    }

    [Fact]
    public async Task ABrowserPageOnAnyLoopbackOriginReadsTheFhirServerAndCallsTheServiceAsTheSandboxDoes()
    {
        Requires.RealFhirAndChromium();
        if (servers.Plain.External)
        {
            return;
        }
        await using var service = await ServiceProcess.StartAsync();
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        // A page of its own origin (a local Sandbox's, on a port nobody configured).
        var origin = $"http://localhost:{FreePort()}";
        using var pageServer = new System.Net.HttpListener();
        pageServer.Prefixes.Add(origin + "/");
        pageServer.Start();
        var serving = Task.Run(async () =>
        {
            var context = await pageServer.GetContextAsync();
            var html = System.Text.Encoding.UTF8.GetBytes("<!doctype html><title>mock EHR</title>");
            context.Response.ContentType = "text/html";
            await context.Response.OutputStream.WriteAsync(html);
            context.Response.Close();
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"{origin}/");
        await serving;

        // What the Sandbox does, in order: read /metadata, search by form POST (preflighted: it sends Authorization),
        // discover the services, fire patient-view. Each step either answers or names the CORS failure.
        var result = await page.EvaluateAsync<string>("""
            async ([fhir, token, service]) => {
              const steps = {};
              const step = async (name, call) => { try { steps[name] = await call(); } catch (e) { steps[name] = 'failed: ' + e; } };
              await step('fhirVersion', async () => (await (await fetch(fhir + '/metadata')).json()).fhirVersion);
              await step('observations', async () => {
                const answer = await fetch(fhir + '/Observation/_search', { method: 'POST',
                  headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/x-www-form-urlencoded' },
                  body: 'patient=coapt-profile' });
                return (await answer.json()).entry.length;
              });
              await step('services', async () => (await (await fetch(service + '/cds-services', { headers: { 'Authorization': 'Bearer a.b.c' } })).json()).services.length);
              await step('cards', async () => {
                const answer = await fetch(service + '/cds-services/secondary-mr-patient-view', { method: 'POST',
                  headers: { 'Authorization': 'Bearer a.b.c', 'Content-Type': 'application/json' },
                  body: JSON.stringify({ hook: 'patient-view', hookInstance: crypto.randomUUID(), fhirServer: fhir,
                    fhirAuthorization: { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'mock-ehr' },
                    context: { patientId: 'coapt-profile', userId: 'Practitioner/mock' } }) });
                return (await answer.json()).cards.map(c => c.summary).join(' | ');
              });
              return JSON.stringify(steps);
            }
            """, new[] { servers.Plain.BaseUrl, servers.Plain.Token!, service.BaseUrl });
        var steps = JsonNode.Parse(result)!;
        Assert.True((string?)steps["fhirVersion"] == "4.0.1", result);
        Assert.True(steps["observations"] is JsonValue count && count.TryGetValue<int>(out var n) && n == 7, result);
        Assert.True(steps["services"] is JsonValue services && services.TryGetValue<int>(out var m) && m == 3, result);
        Assert.Contains("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg", (string?)steps["cards"] ?? "", StringComparison.Ordinal);
    }
}

