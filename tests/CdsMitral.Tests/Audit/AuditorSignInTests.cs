using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Audit;

/// <summary>Auditor sign-in as an attacker meets it: wrong names and wrong passwords, fast and in parallel.</summary>
public sealed class AuditorSignInTests
{
    private const string AddressHeader = "X-Test-Remote-Address";

    [Fact]
    public async Task AnUnknownUserNameTakesAsLongToRefuseAsAKnownOneWithAWrongPassword()
    {
        // A hash costly enough (100,000 iterations) that a skipped derivation shows through the noise of a busy machine.
        await using var service = new ServiceFactory()
            .With("CdsMitral:Audit:Auditors:0:User", AuditSupport.AuditorUser)
            .With("CdsMitral:Audit:Auditors:0:PasswordHash", AuditorPasswords.Hash(AuditSupport.AuditorPassword, 100_000))
            .With("CdsMitral:Audit:SignInAttemptsBeforeBackoff", "1000");
        using var known = service.AuditorClient(password: "wrong");
        using var unknown = service.AuditorClient(user: "nobody-by-this-name", password: "wrong");
        await Time(known);
        await Time(unknown);
        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            knownTimes.Add(await Time(known));
            unknownTimes.Add(await Time(unknown));
        }
        var ratio = Median(knownTimes) / Median(unknownTimes);
        Assert.True(ratio is > 0.5 and < 2, $"known {Median(knownTimes):0.0} ms, unknown {Median(unknownTimes):0.0} ms");
    }

    [Fact]
    public async Task TheSixthWrongPasswordInAMinuteFromOneAddressIsAnswered429WithoutCheckingIt()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        using var wrong = service.AuditorClient(password: "guess");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(401, (int)(await wrong.GetAsync("/audit/api/invocations")).StatusCode);
        }
        var checks = service.Services.GetRequiredService<AuditorSignIn>().Verifications;
        using var sixth = await wrong.GetAsync("/audit/api/invocations");
        Assert.Equal(429, (int)sixth.StatusCode);
        Assert.True(sixth.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(30), $"Retry-After {sixth.Headers.RetryAfter}");
        Assert.Equal("OperationOutcome", (string?)JsonNode.Parse(await sixth.Content.ReadAsStringAsync())!["resourceType"]);
        Assert.Equal(checks, service.Services.GetRequiredService<AuditorSignIn>().Verifications);
        // Other user names from the same address wait too, and so, for now, does the right password.
        using var other = service.AuditorClient(user: "someone-else", password: "guess");
        Assert.Equal(429, (int)(await other.GetAsync("/audit")).StatusCode);
        using var right = service.AuditorClient();
        Assert.Equal(429, (int)(await right.GetAsync("/audit")).StatusCode);
    }

    [Fact]
    public async Task WrongPasswordsForOneNameFromManyAddressesAreThrottledTooAndARightOneBeforeThatResetsTheCount()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        await using var spread = WithAddresses(service);
        // Four misses, then the auditor gets it right: the count starts afresh.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(401, await Status(spread, $"10.0.0.{i}", AuditSupport.AuditorUser, "typo"));
        }
        Assert.Equal(200, await Status(spread, "10.0.1.1", AuditSupport.AuditorUser, AuditSupport.AuditorPassword));
        // Six addresses each try the auditor's name once: the sixth waits.
        var answers = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await Status(spread, $"10.0.2.{i}", AuditSupport.AuditorUser, $"guess-{i}"));
        }
        Assert.Equal([401, 401, 401, 401, 401, 429], answers);
        // The auditor already signed in is remembered, and is not locked out by the attack on the name.
        Assert.Equal(200, await Status(spread, "10.0.1.1", AuditSupport.AuditorUser, AuditSupport.AuditorPassword));
    }

    [Fact]
    public async Task ASignedInAuditorsNextTwentyRequestsCostNoPasswordCheck()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        var signIn = service.Services.GetRequiredService<AuditorSignIn>();
        using var auditor = service.AuditorClient();
        Assert.Equal(200, (int)(await auditor.GetAsync("/audit")).StatusCode);
        Assert.Equal(1, signIn.Verifications);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(200, (int)(await auditor.GetAsync(i % 2 == 0 ? "/audit/api/invocations" : "/audit")).StatusCode);
        }
        Assert.Equal(1, signIn.Verifications);
    }

    [Fact]
    public async Task AFloodOfSignInsFromManyAddressesChecksOnePasswordAtATime()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        await using var spread = WithAddresses(service);
        var attempts = Enumerable.Range(0, 8).Select(i => Status(spread, $"10.0.3.{i}", $"name-{i}", "guess")).ToList();
        Assert.All(await Task.WhenAll(attempts), status => Assert.Equal(401, status));
        var signIn = spread.Services.GetRequiredService<AuditorSignIn>();
        Assert.Equal(8, signIn.Verifications);
        Assert.Equal(1, signIn.PeakConcurrentVerifications);
    }

    private static async Task<double> Time(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("/audit/api/verify");
        Assert.Equal(401, (int)response.StatusCode);
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>The same service, where a request header stands for the caller's address (TestServer has none).</summary>
    private static WebApplicationFactory<Program> WithAddresses(ServiceFactory service) =>
        service.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, AddressFromHeader>()));

    private static async Task<int> Status(WebApplicationFactory<Program> service, string address, string user, string password)
    {
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/audit/api/invocations");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        request.Headers.Add(AddressHeader, address);
        using var response = await client.SendAsync(request);
        return (int)response.StatusCode;
    }

    private sealed class AddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                if (http.Request.Headers[AddressHeader].FirstOrDefault() is { } address)
                {
                    http.Connection.RemoteIpAddress = IPAddress.Parse(address);
                }
                return following(http);
            });
            next(app);
        };
    }
}
