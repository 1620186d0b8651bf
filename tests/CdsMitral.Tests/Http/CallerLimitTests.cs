using System.Net;
using System.Text;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Browser clients (CORS) and how often one client may call (rate limiting).</summary>
public sealed class CallerLimitTests
{
    private const string Sandbox = "https://sandbox.cds-hooks.org";

    private static ServiceFactory WithSandboxOrigin() => new ServiceFactory().With("CdsMitral:Callers:CorsOrigins:0", Sandbox);

    [Theory]
    [InlineData("/cds-services", "GET", "authorization")]
    [InlineData("/cds-services/secondary-mr-patient-view", "POST", "authorization,content-type")]
    [InlineData("/cds-services/secondary-mr-patient-view/feedback", "POST", "authorization,content-type")]
    public async Task APreflightFromAnAllowedOriginIsAnsweredWithoutAToken(string path, string method, string headers)
    {
        await using var service = WithSandboxOrigin();
        using var client = service.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
        preflight.Headers.Add("Origin", Sandbox);
        preflight.Headers.Add("Access-Control-Request-Method", method);
        preflight.Headers.Add("Access-Control-Request-Headers", headers);
        using var response = await client.SendAsync(preflight);
        Assert.Equal(204, (int)response.StatusCode);
        Assert.Equal(Sandbox, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var allowed = string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.Contains("authorization", allowed, StringComparison.Ordinal);
        Assert.Contains(method, string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorResponsesCarryCorsHeadersSoTheBrowserCanShowThem()
    {
        await using var service = WithSandboxOrigin();
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/cds-services/secondary-mr-patient-view")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", Sandbox);
        using var response = await client.SendAsync(request);
        Assert.Equal(401, (int)response.StatusCode);
        Assert.Equal(Sandbox, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task AnOriginNotOnTheListGetsNoCorsHeaders()
    {
        await using var service = WithSandboxOrigin();
        using var client = service.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cds-services");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        using var response = await client.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task AClientOverItsRateAnswers429WithRetryAfterWhileAnotherClientIsServed()
    {
        var other = new TestEhr("https://ehr2.test.example", "k2");
        await using var service = new ServiceFactory().With("CdsMitral:Callers:PermitLimit", "3").With("CdsMitral:Callers:Window", "00:01:00")
            .With("CdsMitral:Trust:Clients:1:Issuer", other.Issuer).With("CdsMitral:Trust:Clients:1:Jwks", other.Jwks);
        using var client = service.CreateSignedClient();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync("/cds-services");
            Assert.Equal(200, (int)ok.StatusCode);
        }
        using var limited = await client.GetAsync("/cds-services");
        Assert.Equal(429, (int)limited.StatusCode);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal("OperationOutcome", (string?)System.Text.Json.Nodes.JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["resourceType"]);

        using var otherClient = service.CreateDefaultClient(new SigningHandler(other, service.PublicBaseUrl, service.Clock));
        using var served = await otherClient.GetAsync("/cds-services");
        Assert.Equal(200, (int)served.StatusCode);
    }

    /// <summary>A call as it arrives from <paramref name="address"/> (the in-process server has no sockets to take it from).</summary>
    private static async Task<int> GetFrom(ServiceFactory service, string address, string? token)
    {
        var context = await service.Server.SendAsync(http =>
        {
            http.Connection.RemoteIpAddress = IPAddress.Parse(address);
            http.Request.Method = "GET";
            http.Request.Path = "/cds-services";
            if (token is not null)
            {
                http.Request.Headers.Authorization = $"Bearer {token}";
            }
        });
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task UnverifiedCallersOverTheirLimitGet429PerAddressWhileVerifiedClientsKeepTheirOwnBudget()
    {
        await using var service = new ServiceFactory().With("CdsMitral:Callers:UnverifiedPermitLimit", "3");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(401, await GetFrom(service, "203.0.113.5", "garbage.jwt.here"));
        }
        Assert.Equal(429, await GetFrom(service, "203.0.113.5", "garbage.jwt.here"));
        Assert.Equal(429, await GetFrom(service, "203.0.113.5", null));
        Assert.Equal(401, await GetFrom(service, "203.0.113.6", "garbage.jwt.here"));
        var token = TestEhr.Default.Token($"{service.PublicBaseUrl}/cds-services", issuedAt: service.Clock.GetUtcNow());
        Assert.Equal(200, await GetFrom(service, "203.0.113.5", token));

        // An IPv6 host holds a whole /64: its addresses share one budget.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(401, await GetFrom(service, $"2001:db8:1:1::{i + 1}", "garbage.jwt.here"));
        }
        Assert.Equal(429, await GetFrom(service, "2001:db8:1:1::99", "garbage.jwt.here"));
        Assert.Equal(401, await GetFrom(service, "2001:db8:1:2::1", "garbage.jwt.here"));
    }
}
