using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsMitral.Tests.Http;

/// <summary>CDS Hooks 2.0 §Trusting CDS Clients, as an attacker or a misconfigured EHR would meet it.</summary>
public sealed class TrustTests : IAsyncLifetime
{
    private const string Service = "/cds-services/secondary-mr-patient-view";
    private const string Audience = "https://cds.example.org" + Service;
    private readonly ServiceFactory _service = new();
    private FakeFhirServer _keys = null!;

    public async ValueTask InitializeAsync() => _keys = await FakeFhirServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _keys.DisposeAsync();
        await _service.DisposeAsync();
    }

    private static JsonObject EmptyChartRequest() => Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded));

    private DateTimeOffset Now => _service.Clock.GetUtcNow();

    private static async Task<HookResponse> Post(ServiceFactory service, string? token, string path = Service, JsonObject? body = null)
    {
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent((body ?? EmptyChartRequest()).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await client.SendAsync(request);
        var read = await HookResponse.ReadAsync(response);
        if (read.Status == 401)
        {
            // The caller learns nothing about why: the reason is only in the service's log.
            Assert.Equal(["The client could not be authenticated."], read.Issues);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        return read;
    }

    private Task<HookResponse> Post(string? token, string path = Service) => Post(_service, token, path);

    [Fact]
    public async Task AValidTokenFromATrustedEhrIsAccepted()
    {
        Assert.Equal(200, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now))).Status);
    }

    [Fact]
    public async Task ACallWithoutATokenIsRefusedWithAGeneric401()
    {
        Assert.Equal(401, (await Post(null)).Status);
    }

    [Fact]
    public async Task DiscoveryNeedsATokenToo()
    {
        using var client = _service.CreateClient();
        using var response = await client.GetAsync("/cds-services");
        Assert.Equal(401, (int)response.StatusCode);
    }

    [Fact]
    public async Task TheSpecsExampleTokenVerifiesButItsLifetimeIsRefused()
    {
        var token = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SpecExamples", "spec20-jwt-example-token.txt")).Trim();
        var jwks = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SpecExamples", "spec20-24-jwks-public.json"));
        // Its jku (fhir-ehr.example.com) is not reachable, and is not fetched: the key is configured out of band.
        ServiceFactory Trusting(ServiceFactory f) => f
            .With("CdsMitral:Trust:Clients:1:Issuer", "https://fhir-ehr.example.com/")
            .With("CdsMitral:Trust:Clients:1:Jwks", jwks);

        await using var today = Trusting(new ServiceFactory());
        Assert.Equal(401, (await Post(today, token, "/cds-services/some-service")).Status);

        // On the eve of its exp (2015-01-29) the signature, iss and aud verify, but it was issued in 2011 (iat): a lifetime
        // of three and a half years, where the service allows 5 minutes. The audit record says which check refused it.
        await using var then = Trusting(ServiceFactory.At(DateTimeOffset.FromUnixTimeSeconds(1422568860 - 600))).Audited(Store.Sqlite);
        Assert.Equal(401, (await Post(then, token, "/cds-services/some-service")).Status);
        var item = Assert.Single((await then.AuditApi("/audit/api/invocations"))["items"]!.AsArray())!;
        var reason = (string)(await then.AuditApi($"/audit/api/invocations/{item["eventId"]}"))["record"]!["reason"]!;
        Assert.Contains("lifetime exp - iat is 111287890 s", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExpGivenAsAStringOrAHundredYearsAheadIsRefused()
    {
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, expiresClaim: Now.AddMinutes(5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, lifetime: TimeSpan.FromDays(36525)))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, lifetime: TimeSpan.FromMinutes(10)))).Status);
        // 5 minutes plus the 60 s clock skew is still fine.
        Assert.Equal(200, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, lifetime: TimeSpan.FromMinutes(6)))).Status);
    }

    /// <summary>Development without PublicBaseUrl: the base is the listening address from configuration.</summary>
    private static ServiceFactory DevelopmentWithoutPublicBaseUrl(string mode) => new ServiceFactory().InEnvironment("Development")
        .Without("CdsMitral:PublicBaseUrl").With("urls", "http://localhost:5080").With("CdsMitral:Trust:Mode", mode);

    private static async Task<HttpResponseMessage> SendWithHost(ServiceFactory service, string host, string? token, JsonObject body)
    {
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Service) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Host = host;
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task ATokenMintedForAnotherServiceIsRefusedEvenWhenTheHostHeaderNamesThatService()
    {
        await using var service = DevelopmentWithoutPublicBaseUrl("Verify");
        var now = service.Clock.GetUtcNow();
        using var forOther = await SendWithHost(service, "other-cds.example", TestEhr.Default.Token($"http://other-cds.example{Service}", issuedAt: now), EmptyChartRequest());
        Assert.Equal(401, (int)forOther.StatusCode);
        using var forUs = await SendWithHost(service, "other-cds.example", TestEhr.Default.Token($"http://localhost:5080{Service}", issuedAt: now), EmptyChartRequest());
        Assert.Equal(200, (int)forUs.StatusCode);
    }

    [Fact]
    public async Task AHostHeaderDoesNotChangeWhereCardLinksPoint()
    {
        await using var service = DevelopmentWithoutPublicBaseUrl("Off");
        var request = Requests.PatientView("p1", new Chart().PriorTeer("2025-06-01").Lvef(35, "2026-10-01").Prefetch(Terminology.Terminology.Embedded));
        using var response = await SendWithHost(service, "evil.example", null, request);
        var answer = await HookResponse.ReadAsync(response);
        Assert.Equal(200, answer.Status);
        var links = answer.Cards.SelectMany(c => c["links"]!.AsArray().Select(l => (string)l!["url"]!)).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, url => Assert.StartsWith("http://localhost:5080/content/", url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OutsideDevelopmentTheServiceDoesNotStartWithoutAPublicBaseUrl()
    {
        await using var service = new ServiceFactory().InEnvironment("Production").Without("CdsMitral:PublicBaseUrl");
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains("CdsMitral:PublicBaseUrl is not set: outside Development", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensSignedWithNoneOrASharedSecretAreRefused()
    {
        Assert.Equal(401, (await Post(TestEhr.WithAlgNone(Audience, TestEhr.Default.Issuer))).Status);
        Assert.Equal(401, (await Post(TestEhr.SignedWithSharedSecret(Audience, TestEhr.Default.Issuer))).Status);
    }

    [Fact]
    public async Task ATokenFromAnIssuerNotOnTheListIsRefused()
    {
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuer: "https://stranger.example", issuedAt: Now))).Status);
        var impostor = new TestEhr(TestEhr.Default.Issuer, "test-key-1");
        Assert.Equal(401, (await Post(impostor.Token(Audience, issuedAt: Now))).Status); // right iss and kid, wrong key
    }

    [Theory]
    [InlineData("https://cds.example.org/cds-services/secondary-mr-order-select")]
    [InlineData("https://cds.example.org/cds-services")]
    [InlineData("https://other.example.org/cds-services/secondary-mr-patient-view")]
    public async Task ATokenForAnotherUrlIsRefused(string audience)
    {
        Assert.Equal(401, (await Post(TestEhr.Default.Token(audience, issuedAt: Now))).Status);
    }

    [Fact]
    public async Task AudMayBeAnArrayOrCarryATrailingSlash()
    {
        Assert.Equal(200, (await Post(TestEhr.Default.Token("", audienceClaim: new[] { "https://elsewhere.example", Audience }, issuedAt: Now))).Status);
        Assert.Equal(200, (await Post(TestEhr.Default.Token(Audience + "/", issuedAt: Now))).Status);
    }

    [Fact]
    public async Task TokensOutsideTheirLifetimeAreRefused()
    {
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now.AddMinutes(-10), lifetime: TimeSpan.FromMinutes(5)))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, notBefore: Now.AddMinutes(10)))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now.AddMinutes(10)))).Status);
        // Within the 60 s skew both ways is fine.
        Assert.Equal(200, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now.AddSeconds(30)))).Status);
        Assert.Equal(200, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now.AddMinutes(-5).AddSeconds(-30), lifetime: TimeSpan.FromMinutes(5)))).Status);
    }

    [Fact]
    public async Task TokensMissingRequiredClaimsOrHeadersAreRefused()
    {
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, withJti: false))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, withIat: false))).Status);
        Assert.Equal(401, (await Post(TestEhr.Default.Token(Audience, issuedAt: Now, typ: "at+jwt"))).Status);
        Assert.Equal(401, (await Post("not.a.jwt")).Status);
        Assert.Equal(401, (await Post("a.b")).Status);
    }

    [Fact]
    public async Task ATokenWithoutAKidIsRefused()
    {
        var handler = new JsonWebTokenHandler();
        var key = new ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384));
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TestEhr.Default.Issuer, Audience = Audience, IssuedAt = Now.UtcDateTime, Expires = Now.AddMinutes(5).UtcDateTime,
            NotBefore = Now.UtcDateTime, Claims = new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString() },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha384),
        });
        Assert.Equal(401, (await Post(token)).Status);
    }

    [Fact]
    public async Task AReplayedTokenIsRefusedTheSecondTime()
    {
        var token = TestEhr.Default.Token(Audience, issuedAt: Now);
        Assert.Equal(200, (await Post(token)).Status);
        Assert.Equal(401, (await Post(token)).Status);
    }

    [Fact]
    public async Task TheSameJtiFromTwoIssuersIsNotAReplay()
    {
        var other = new TestEhr("https://ehr2.test.example", "k2");
        await using var service = new ServiceFactory()
            .With("CdsMitral:Trust:Clients:1:Issuer", other.Issuer).With("CdsMitral:Trust:Clients:1:Jwks", other.Jwks);
        var audience = Audience;
        Assert.Equal(200, (await Post(service, TestEhr.Default.Token(audience, issuedAt: service.Clock.GetUtcNow(), jti: "shared-jti"))).Status);
        Assert.Equal(200, (await Post(service, other.Token(audience, issuedAt: service.Clock.GetUtcNow(), jti: "shared-jti"))).Status);
    }

    [Fact]
    public async Task TheTenantIsCheckedWhenTheIssuerHasTenants()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:0:Tenants:0", "hospital-a");
        DateTimeOffset now() => service.Clock.GetUtcNow();
        Assert.Equal(200, (await Post(service, TestEhr.Default.Token(Audience, issuedAt: now(), tenant: "hospital-a"))).Status);
        Assert.Equal(401, (await Post(service, TestEhr.Default.Token(Audience, issuedAt: now(), tenant: "hospital-b"))).Status);
        Assert.Equal(401, (await Post(service, TestEhr.Default.Token(Audience, issuedAt: now()))).Status);
    }

    [Fact]
    public async Task AKeySetNamedByAnAllowListedJkuIsFetchedAndCached()
    {
        var epic = new TestEhr("https://epic.test.example/fhir", "epic-1", SecurityAlgorithms.RsaSha384);
        var jku = $"{_keys.BaseUrl}/jwks.json";
        _keys.Responder = (_, _) => new FakeReply(200, epic.Jwks, ContentType: "application/json");
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", epic.Issuer).With("CdsMitral:Trust:Clients:1:JwksUrls:0", jku);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await Post(service, epic.Token(Audience, issuedAt: service.Clock.GetUtcNow(), jku: jku))).Status);
        }
        Assert.Single(_keys.Requests);
    }

    [Fact]
    public async Task AJkuThatIsNotOnTheIssuersListIsNeverFetched()
    {
        var epic = new TestEhr("https://epic.test.example/fhir", "epic-1", SecurityAlgorithms.RsaSha384);
        _keys.Responder = (_, _) => new FakeReply(200, epic.Jwks, ContentType: "application/json");
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", epic.Issuer)
            .With("CdsMitral:Trust:Clients:1:JwksUrls:0", "https://epic.test.example/jwks.json");
        var token = epic.Token(Audience, issuedAt: service.Clock.GetUtcNow(), jku: $"{_keys.BaseUrl}/attacker-keys.json");
        Assert.Equal(401, (await Post(service, token)).Status);
        Assert.Empty(_keys.Requests);
    }

    [Fact]
    public async Task AnUnknownKidRefreshesTheKeySetAtMostOncePerInterval()
    {
        var before = new TestEhr("https://rotating.test.example", "old-key");
        var after = new TestEhr("https://rotating.test.example", "new-key");
        var jku = $"{_keys.BaseUrl}/jwks.json";
        var published = before.Jwks;
        _keys.Responder = (_, _) => new FakeReply(200, published, ContentType: "application/json");
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", before.Issuer).With("CdsMitral:Trust:Clients:1:JwksUrls:0", jku);
        Assert.Equal(200, (await Post(service, before.Token(Audience, issuedAt: service.Clock.GetUtcNow(), jku: jku))).Status);
        Assert.Single(_keys.Requests);

        // The client rotates its key; the first unknown kid may refresh the set (within the interval it already did not).
        published = after.Jwks;
        for (var i = 0; i < 5; i++)
        {
            await Post(service, after.Token(Audience, issuedAt: service.Clock.GetUtcNow(), jku: jku));
        }
        Assert.Single(_keys.Requests); // refreshed at most once per 5 minutes: no new fetch yet

        await using var eager = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", before.Issuer)
            .With("CdsMitral:Trust:Clients:1:JwksUrls:0", jku).With("CdsMitral:Trust:JwksRefreshInterval", "00:00:00");
        Assert.Equal(200, (await Post(eager, after.Token(Audience, issuedAt: eager.Clock.GetUtcNow(), jku: jku))).Status);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha384)]
    [InlineData(SecurityAlgorithms.EcdsaSha256)]
    [InlineData(SecurityAlgorithms.RsaSha256)]
    [InlineData(SecurityAlgorithms.RsaSsaPssSha256)]
    [InlineData(SecurityAlgorithms.EcdsaSha512)]
    public async Task OtherAsymmetricAlgorithmsAreAccepted(string algorithm)
    {
        var ehr = new TestEhr("https://alg.test.example", "k-" + algorithm, algorithm);
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", ehr.Issuer).With("CdsMitral:Trust:Clients:1:Jwks", ehr.Jwks);
        Assert.Equal(200, (await Post(service, ehr.Token(Audience, issuedAt: service.Clock.GetUtcNow()))).Status);
    }

    [Fact]
    public async Task AnIssuerMayBeLimitedToSomeAlgorithms()
    {
        var ehr = new TestEhr("https://alg.test.example", "k", SecurityAlgorithms.EcdsaSha256);
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", ehr.Issuer)
            .With("CdsMitral:Trust:Clients:1:Jwks", ehr.Jwks).With("CdsMitral:Trust:Clients:1:Algorithms:0", "ES384");
        Assert.Equal(401, (await Post(service, ehr.Token(Audience, issuedAt: service.Clock.GetUtcNow()))).Status);
    }

    [Fact]
    public async Task TheSandboxPresetAcceptsATokenSignedTheWayTheSandboxSignsThem()
    {
        await using var service = new ServiceFactory()
            .With("CdsMitral:Trust:Clients:1:Issuer", "https://sandbox.cds-hooks.org")
            .With("CdsMitral:Trust:Clients:1:JwksFile", "presets/cds-hooks-sandbox.jwks.json"); // as docs/security.md says
        // ES384 with a jku that is unreachable from a closed network: the preset holds its keys instead.
        var token = SandboxIdentity.Jwt(Audience, service.Clock.GetUtcNow());
        Assert.Equal(200, (await Post(service, token)).Status);
    }

    [Fact]
    public async Task AFhirServerTheClientMayNotNameIsRefusedWithoutBeingContacted()
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:0:FhirServers:0", "https://ehr.test.example/fhir");
        var request = Requests.PatientView("p1", fhirServer: fhir.BaseUrl);
        var response = await Post(service, TestEhr.Default.Token(Audience, issuedAt: service.Clock.GetUtcNow()), body: request);
        Assert.Equal(403, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("not on the list", StringComparison.Ordinal));
        Assert.Empty(fhir.Requests);
    }

    [Fact]
    public async Task AnHttpFhirServerIsRefusedWhenHttpsIsRequired()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Trust:RequireHttpsFhirServer", "true")
            .With("CdsMitral:Trust:Clients:0:FhirServers:0", "http://ehr.test.example/fhir");
        var request = Requests.PatientView("p1", fhirServer: "http://ehr.test.example/fhir");
        var response = await Post(service, TestEhr.Default.Token(Audience, issuedAt: service.Clock.GetUtcNow()), body: request);
        Assert.Equal(403, response.Status);
        Assert.Contains(response.Issues, i => i.Contains("https", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FhirServerPatternsMayUseAWildcardInAHostLabel()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Trust:RequireHttpsFhirServer", "true")
            .With("CdsMitral:Trust:Clients:0:FhirServers:0", "https://*.hospital.example/fhir/R4");
        var allowed = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded), "https://east.hospital.example/fhir/R4");
        Assert.Equal(200, (await Post(service, TestEhr.Default.Token(Audience, issuedAt: service.Clock.GetUtcNow()), body: allowed)).Status);
        var sneaky = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded), "https://evil.example/x.hospital.example/fhir/R4");
        Assert.Equal(403, (await Post(service, TestEhr.Default.Token(Audience, issuedAt: service.Clock.GetUtcNow()), body: sneaky)).Status);
    }

    [Fact]
    public async Task VerificationOffIsRefusedOutsideDevelopment()
    {
        await using var service = new ServiceFactory().InEnvironment("Production").With("CdsMitral:Trust:Mode", "Off");
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains("allowed only in the Development environment", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongTrustSettingStopsTheServiceWithASentence()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Trust:Clients:1:Issuer", "https://nokeys.example");
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains("has no keys: give JwksUrls, JwksFile or Jwks", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithVerificationOffInDevelopmentUnsignedCallsAreServed()
    {
        await using var service = new ServiceFactory().InEnvironment("Development").With("CdsMitral:Trust:Mode", "Off");
        Assert.Equal(200, (await Post(service, null)).Status);
    }
}
