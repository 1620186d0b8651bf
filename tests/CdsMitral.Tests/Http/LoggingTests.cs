using System.Collections.Concurrent;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Http;

public sealed class LoggingTests
{
    [Fact]
    public async Task EachHookLogsOneLineWithItsIdentityDurationAndRulesButNoTokenOrBody()
    {
        var capture = new LogCapture();
        await using var fhir = await FakeFhirServer.StartAsync();
        var chart = new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01");
        fhir.Add(chart.Resources);
        await using var service = new ServiceFactory().With("Logging:LogLevel:Default", "Trace");
        var configured = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));

        const string token = "tok-SECRET-8d3f2a";
        var request = Requests.PatientView("p1", fhirServer: fhir.BaseUrl, accessToken: token);
        request["hookInstance"] = "hook-instance-77";
        using var client = configured.CreateDefaultClient(new SigningHandler(TestEhr.Default, service.PublicBaseUrl, service.Clock));
        using var content = new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/cds-services/secondary-mr-patient-view", content);
        Assert.Equal(200, (int)response.StatusCode);

        var lines = capture.Lines.ToList();
        var hookLine = Assert.Single(lines, l => l.Contains("HookAnswered", StringComparison.Ordinal));
        Assert.Contains("hook-instance-77", hookLine, StringComparison.Ordinal);
        Assert.Contains("secondary-mr-patient-view", hookLine, StringComparison.Ordinal);
        Assert.Contains("DurationMs=", hookLine, StringComparison.Ordinal);
        Assert.Contains("smr-coapt-profile,smr-gdmt-gap", hookLine, StringComparison.Ordinal);
        Assert.Equal(CdsMitral.Hooks.CdsServices.All(Terminology.Terminology.Embedded)[0].Prefetch.Count,
            lines.Count(l => l.Contains(" FhirQuery", StringComparison.Ordinal))); // one per template; the Patient read is a 404
        Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("\"prefetch\"", StringComparison.Ordinal) || l.Contains("48724000\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NeitherAClientJwtNorAFhirTokenReachesTheLogOnSuccessOrFailure()
    {
        var capture = new LogCapture();
        await using var fhir = await FakeFhirServer.StartAsync();
        await using var service = new ServiceFactory().With("Logging:LogLevel:Default", "Trace");
        var configured = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));
        using var client = configured.CreateClient();
        var audience = $"{service.PublicBaseUrl}/cds-services/secondary-mr-patient-view";
        var good = TestEhr.Default.Token(audience, issuedAt: service.Clock.GetUtcNow());
        var forged = new TestEhr(TestEhr.Default.Issuer, "test-key-1").Token(audience, issuedAt: service.Clock.GetUtcNow());
        const string fhirToken = "fhir-token-SECRET-19ab";
        var statuses = new List<int>();
        foreach (var jwt in new[] { good, good, forged, "garbage." + good })
        {
            using var content = new StringContent(Requests.PatientView("p1", fhirServer: fhir.BaseUrl, accessToken: fhirToken).ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/cds-services/secondary-mr-patient-view") { Content = content };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", jwt);
            using var response = await client.SendAsync(request);
            statuses.Add((int)response.StatusCode);
        }
        Assert.Equal([200, 401, 401, 401], statuses); // the second is a replay
        var lines = capture.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("already used", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("signature does not verify", StringComparison.Ordinal));
        foreach (var secret in new[] { good, forged, good.Split('.')[2], forged.Split('.')[2], good.Split('.')[1], fhirToken })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task WithVerificationOffEveryCallIsLoggedAsUnauthenticated()
    {
        var capture = new LogCapture();
        await using var service = new ServiceFactory().InEnvironment("Development").With("CdsMitral:Trust:Mode", "Off");
        var configured = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));
        using var client = configured.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/cds-services");
            Assert.Equal(200, (int)response.StatusCode);
        }
        Assert.Equal(3, capture.Lines.Count(l => l.Contains("Client JWT verification is OFF", StringComparison.Ordinal)));
    }

    [Fact]
    public void RequestAndAuthorizationRecordsNeverPrintTheirToken()
    {
        var auth = new Hooks.FhirAuthorization("tok-SECRET-1", "Bearer", 300, "user/*.read", "svc");
        var request = new Hooks.HookRequest("patient-view", "h1", "https://ehr.example/fhir", auth);
        Assert.DoesNotContain("tok-SECRET-1", auth.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-SECRET-1", request.ToString(), StringComparison.Ordinal);
    }
}
