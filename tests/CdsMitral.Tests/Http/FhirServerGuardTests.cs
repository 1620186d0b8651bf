using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Http;

/// <summary>The SSRF guard (issue 12, finding 3): a fhirServer is compared with the client's patterns as a parsed URL,
/// user information is refused outright, and the address a name resolves to is checked where the socket connects.</summary>
public sealed class FhirServerGuardTests : IAsyncLifetime
{
    private const string Token = "fhir-token-SECRET-5e1c";
    private FakeFhirServer _fhir = null!;

    private int Port => new Uri(_fhir.BaseUrl).Port;

    public async ValueTask InitializeAsync()
    {
        _fhir = await FakeFhirServer.StartAsync();
        _fhir.Add(new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").Resources);
    }

    public async ValueTask DisposeAsync() => await _fhir.DisposeAsync();

    private static ServiceFactory Allowing(params string[] patterns)
    {
        var service = new ServiceFactory().Without("CdsMitral:Trust:Clients:0:FhirServers");
        for (var i = 0; i < patterns.Length; i++)
        {
            service.With($"CdsMitral:Trust:Clients:0:FhirServers:{i}", patterns[i]);
        }
        return service;
    }

    private static async Task<HookResponse> Post(WebApplicationFactory<Program> app, ServiceFactory service, JsonNode body)
    {
        using var client = app.CreateDefaultClient(new SigningHandler(TestEhr.Default, service.PublicBaseUrl, service.Clock));
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/cds-services/{Requests.PatientViewId}", content);
        return await HookResponse.ReadAsync(response);
    }

    private static Task<HookResponse> Post(ServiceFactory service, string fhirServer, bool prefetched = false) =>
        service.PostAsync(Requests.PatientViewId, prefetched
            ? Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded), fhirServer)
            : Requests.PatientView("p1", fhirServer: fhirServer, accessToken: Token));

    /// <summary>Names under test.example resolve to the given address; anything else through DNS.</summary>
    private static WebApplicationFactory<Program> Resolving(ServiceFactory service, string address, LogCapture? capture = null) =>
        service.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            s.AddSingleton<Func<string, CancellationToken, Task<IPAddress[]>>>((host, ct) =>
                host.EndsWith(".test.example", StringComparison.OrdinalIgnoreCase) ? Task.FromResult(new[] { IPAddress.Parse(address) }) : Dns.GetHostAddressesAsync(host, ct));
            if (capture is not null)
            {
                s.AddLogging(l => l.AddProvider(capture));
            }
        }));

    [Fact]
    public async Task TheAtSignBypassIsRefusedWith403AndTheFhirServerReceivesNoRequestAndNoToken()
    {
        await using var service = Allowing("http://fhir.allowed.example:*/fhir");
        var response = await Post(service, $"http://fhir.allowed.example:80@127.0.0.1:{Port}/fhir");
        Assert.Equal(403, response.Status);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
        Assert.Contains(response.Issues, i => i.Contains("user information", StringComparison.Ordinal));
        Assert.Empty(_fhir.Requests);
    }

    [Theory]
    [InlineData("http://user@fhir.allowed.example:{port}/fhir")]
    [InlineData("http://:secret@fhir.allowed.example:{port}/fhir")]
    [InlineData("http://user%40fhir.allowed.example:{port}@127.0.0.1:{port}/fhir")]
    [InlineData("http://fhir.allowed.example:{port}@127.0.0.1:{port}/fhir")]
    public async Task UserInformationInAnyFormIsRefused(string template)
    {
        await using var service = Allowing("http://*.allowed.example:*/fhir");
        var response = await Post(service, template.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Equal(403, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("user information", StringComparison.Ordinal));
        Assert.DoesNotContain(response.Issues, i => i.Contains("secret", StringComparison.Ordinal) || i.Contains("user%40", StringComparison.Ordinal));
        Assert.Empty(_fhir.Requests);
    }

    [Fact]
    public async Task AStarPortMatchesARealPortButNotASecondAuthorityAfterIt()
    {
        await using var service = Allowing("http://127.0.0.1:*/fhir");
        Assert.Equal(200, (await Post(service, $"http://127.0.0.1:{Port}/fhir")).Status);
        var served = _fhir.Requests.Count;
        Assert.True(served > 0);
        Assert.All(_fhir.Requests, r => Assert.Equal($"Bearer {Token}", r.Authorization));

        var response = await Post(service, $"http://127.0.0.1:{Port}@127.0.0.1:{Port}/fhir");
        Assert.Equal(403, response.Status);
        Assert.Equal(served, _fhir.Requests.Count);
    }

    [Fact]
    public async Task AHostPatternAdmitsOneLabelForItsStarAndNoLookAlikeHost()
    {
        await using var service = Allowing("http://*.allowed.example/fhir", "http://plain.example/fhir", "http://xn--bcher-kva.example/fhir");
        foreach (var refused in new[]
        {
            "http://allowed.example.evil.com/fhir", "http://evilallowed.example/fhir", "http://allowed.example/fhir", "http://a.b.allowed.example/fhir",
            "http://east.allowed.example:8080/fhir", "https://east.allowed.example/fhir", "http://plain.example.evil.com/fhir", "http://xplain.example/fhir", "http://bucher.example/fhir",
        })
        {
            var response = await Post(service, refused, prefetched: true);
            Assert.True(response.Status == 403, $"{refused}: {response.Status}");
        }
        // Case, a trailing dot, an explicit default port and Unicode for punycode do not make another host.
        foreach (var admitted in new[] { "http://east.allowed.example/fhir", "http://EAST.Allowed.Example./fhir", "http://east.allowed.example:80/fhir", "http://plain.example./fhir", "http://Bücher.example/fhir" })
        {
            Assert.True((await Post(service, admitted, prefetched: true)).Status == 200, admitted);
        }
    }

    [Fact]
    public async Task APathPrefixAdmitsWholeSegmentsOnlyAfterDotSegmentsAreRemoved()
    {
        await using var service = Allowing("http://127.0.0.1:*/r4", "http://127.0.0.1:*/fhir/*");
        foreach (var refused in new[] { "/r4x", "/r4/../admin", "/r4/%2e%2e/admin", "/r4/..%2Fadmin", "/fhir/..", "/fhir/%2E%2E", "/fhir", "/R4", "//r4" })
        {
            var response = await Post(service, $"http://127.0.0.1:{Port}{refused}");
            Assert.True(response.Status == 403, $"{refused}: {response.Status}");
        }
        Assert.Empty(_fhir.Requests);
        foreach (var admitted in new[] { "/r4", "/r4/", "/r4/tenant-a", "/fhir/tenant-a", "/%72%34" })
        {
            Assert.True((await Post(service, $"http://127.0.0.1:{Port}{admitted}", prefetched: true)).Status == 200, admitted);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("10.20.30.40", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fd00::1", "private")]
    [InlineData("0.0.0.0", "unspecified")]
    public async Task ANameAWildcardAdmitsIsRefusedAtConnectTimeWhenItResolvesToAForbiddenAddress(string address, string kind)
    {
        await using var service = Allowing("http://*.test.example:*/fhir");
        var app = Resolving(service, address);
        var response = await Post(app, service, Requests.PatientView("p1", fhirServer: $"http://fhir.test.example:{Port}/fhir", accessToken: Token));
        Assert.Equal(412, response.Status);
        Assert.Contains(response.Issues, i => i.Contains($"fhirServer host fhir.test.example resolves to a {kind}", StringComparison.Ordinal));
        Assert.Empty(_fhir.Requests);
    }

    [Fact]
    public async Task AHostAPatternNamesItselfMayResolveToLoopback()
    {
        await using var service = Allowing("http://fhir.test.example:*/fhir");
        var app = Resolving(service, "127.0.0.1");
        var response = await Post(app, service, Requests.PatientView("p1", fhirServer: $"http://fhir.test.example:{Port}/fhir", accessToken: Token));
        Assert.Equal(200, response.Status);
        Assert.NotEmpty(_fhir.Requests);
    }

    [Fact]
    public async Task NothingOfTheUserInformationReachesTheLogOrTheAuditRecord()
    {
        var capture = new LogCapture();
        await using var service = Allowing("http://*.allowed.example:*/fhir", "http://127.0.0.1:*/fhir").With("Logging:LogLevel:Default", "Trace");
        var app = Resolving(service, "127.0.0.1", capture);
        foreach (var fhirServer in new[]
        {
            $"http://admin-USER:hunter2-SECRET@x.allowed.example:{Port}/fhir",
            $"http://admin-USER:hunter2-SECRET@127.0.0.1:{Port}/fhir?x=1", // malformed (a query): 400, but audited too
            $"http://admin-USER%40hunter2-SECRET@127.0.0.1:{Port}/fhir",
        })
        {
            var response = await Post(app, service, Requests.PatientView("p1", fhirServer: fhirServer, accessToken: Token));
            Assert.True(response.Status is 400 or 403, $"{fhirServer}: {response.Status}");
            Assert.DoesNotContain("hunter2", response.Body, StringComparison.Ordinal);
        }
        var lines = capture.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("fhirServer on host x.allowed.example carries user information", StringComparison.Ordinal));
        var stored = await AuditSupport.EverythingStored(service, Store.Sqlite);
        Assert.Contains("x.allowed.example", stored, StringComparison.Ordinal);
        foreach (var secret in new[] { "hunter2", "admin-USER", Token })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        }
        Assert.Empty(_fhir.Requests);
    }

    [Fact]
    public async Task ACredentialInANextLinkQueryReachesNeitherTheLogNorTheAudit()
    {
        var capture = new LogCapture();
        _fhir.Responder = (request, _) => request.Path.Value!.EndsWith("/Observation", StringComparison.Ordinal) && !request.Query.ContainsKey("page")
            ? new FakeReply(200, FakeFhirServer.SearchSet([], next: $"{_fhir.BaseUrl}/Observation?page=2&access_token=QSECRET-77"))
            : null;
        await using var service = Allowing("http://127.0.0.1:*/fhir").With("Logging:LogLevel:Default", "Trace");
        var app = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));
        var response = await Post(app, service, Requests.PatientView("p1", fhirServer: _fhir.BaseUrl, accessToken: Token));
        Assert.Equal(200, response.Status);
        Assert.Contains(_fhir.Requests, r => r.PathAndQuery.Contains("access_token=QSECRET-77", StringComparison.Ordinal));
        var lines = capture.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("page=2&access_token=REDACTED", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("QSECRET", StringComparison.Ordinal));
        Assert.DoesNotContain("QSECRET", await AuditSupport.EverythingStored(service, Store.Sqlite), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CdsMitral:Trust:Clients:0:FhirServers:0", "https://fhir*.example/r4", "a '*' may stand only as the whole first label")]
    [InlineData("CdsMitral:Trust:Clients:0:FhirServers:0", "https://h.example/r4*", "a '*' may stand only as the whole first label")]
    [InlineData("CdsMitral:Trust:Clients:0:FhirServers:0", "https://user@h.example/r4", "must not carry user information")]
    [InlineData("CdsMitral:Trust:Clients:0:FhirServers:0", "ftp://h.example/r4", "must start with http:// or https://")]
    [InlineData("CdsMitral:Trust:Clients:0:FhirServers:0", "https://*.10.0.0.1/r4", "not an address")]
    [InlineData("CdsMitral:Trust:UnverifiedFhirServers:0", "http://127.0.0.1:99999/fhir", "neither a number from 1 to 65535 nor '*'")]
    public async Task AMalformedFhirServerPatternStopsTheServiceWithASentence(string key, string pattern, string sentence)
    {
        await using var service = new ServiceFactory().With(key, pattern);
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains($"{key} is '{pattern}', which is not a FHIR server pattern: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(sentence, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDevelopmentDefaultsServeLoopbackByAddressAndByNameButRefuseTheAtSignForm()
    {
        await using var service = new ServiceFactory().InEnvironment("Development");
        using var client = service.CreateClient();
        async Task<int> Status(string fhirServer)
        {
            using var content = new StringContent(Requests.PatientView("p1", fhirServer: fhirServer, accessToken: Token).ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await client.PostAsync($"/cds-services/{Requests.PatientViewId}", content);
            return (int)response.StatusCode;
        }
        Assert.Equal(200, await Status($"http://127.0.0.1:{Port}/fhir"));
        Assert.Equal(200, await Status($"http://localhost:{Port}/fhir"));
        var served = _fhir.Requests.Count;
        Assert.Equal(403, await Status($"http://127.0.0.1:{Port}@evil.example/fhir"));
        Assert.Equal(403, await Status($"http://localhost:{Port}@127.0.0.1:{Port}/fhir"));
        Assert.Equal(served, _fhir.Requests.Count);
    }
}
