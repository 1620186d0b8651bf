using System.Net;
using CdsMitral.Tests.Audit;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using CdsMitral.Service.Navigator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CdsMitral.Tests.Navigator;

/// <summary>The Navigator in an EHR's side panel: no page may frame it unless its origin is configured, and then only
/// that origin, with cookies a browser still sends into a cross-site frame.</summary>
public sealed class FramingTests : IAsyncLifetime
{
    private const string Ehr = "https://ehr.example.org";
    private const string DevEhr = "http://localhost:5173";
    private FakeFhirServer _fhir = null!;

    public async ValueTask InitializeAsync()
    {
        _fhir = await FakeFhirServer.StartAsync();
        _fhir.Add(new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Resources);
    }

    public async ValueTask DisposeAsync() => await _fhir.DisposeAsync();

    private static HttpClient Browser(ServiceFactory service) => service.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
        BaseAddress = new Uri("https://localhost"),
    });

    /// <summary>An open-server launch (it needs no authorization server) and its first step: the session cookie, then
    /// the antiforgery cookie, as the browser receives them.</summary>
    private async Task<(string Policy, string Session, string Antiforgery)> OpenAsync(ServiceFactory service)
    {
        service.With("CdsMitral:Navigator:AllowOpenServerLaunch", "true");
        using var browser = Browser(service);
        using var launch = await browser.GetAsync($"/navigator/launch?fhirServiceUrl={_fhir.BaseUrl}&patientId=p1");
        Assert.Equal(HttpStatusCode.Redirect, launch.StatusCode);
        var session = launch.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("cdsmitral-nav=", StringComparison.Ordinal));
        using var step = await browser.GetAsync(launch.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        var antiforgery = step.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("cdsmitral-nav-af=", StringComparison.Ordinal));
        return (string.Join(";", step.Headers.GetValues("Content-Security-Policy")), session.ToLowerInvariant(), antiforgery.ToLowerInvariant());
    }

    [Fact]
    public async Task ByDefaultNoPageMayFrameTheNavigatorAndItsCookiesStayFirstParty()
    {
        await using var service = new ServiceFactory();
        var (policy, session, antiforgery) = await OpenAsync(service);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", session, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", antiforgery, StringComparison.Ordinal);
        Assert.DoesNotContain("partitioned", session + antiforgery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfiguredEhrOriginMayFrameTheNavigatorAndItsCookiesReachTheFrame()
    {
        await using var service = new ServiceFactory()
            .With("CdsMitral:Navigator:FrameAncestors:0", Ehr)
            .With("CdsMitral:Navigator:FrameAncestors:1", DevEhr + "/");
        var (policy, session, antiforgery) = await OpenAsync(service);
        Assert.Contains($"frame-ancestors {Ehr} {DevEhr};", policy + ";", StringComparison.Ordinal);
        Assert.DoesNotContain("'none'", policy.Split("frame-ancestors")[1], StringComparison.Ordinal);
        foreach (var cookie in new[] { session, antiforgery })
        {
            Assert.Contains("samesite=none", cookie, StringComparison.Ordinal);
            Assert.Contains("secure", cookie, StringComparison.Ordinal);
            Assert.Contains("partitioned", cookie, StringComparison.Ordinal);
            Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://*.ehr.example.org")]
    [InlineData("https://ehr.example.org/panel")]
    [InlineData("https://ehr.example.org/?x=1")]
    [InlineData("https://nurse@ehr.example.org")]
    [InlineData("http://ehr.example.org")]
    [InlineData("ehr.example.org")]
    [InlineData("https://ehr.example.org 'unsafe-inline'")]
    public void AFrameAncestorThatIsNotABareOriginStopsTheServiceSayingWhy(string origin)
    {
        Assert.NotNull(NavigatorOptionsProblem(origin));
        using var service = new ServiceFactory().With("CdsMitral:Navigator:FrameAncestors:0", origin);
        Assert.ThrowsAny<Exception>(() => service.CreateClient());
        // The sentence it stops with, from the Navigator's registered validation. (Read apart from the host: once in
        // a full run, the failed start surfaced as an ObjectDisposedException instead of the validation's message.)
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("CdsMitral:Navigator:FrameAncestors:0", origin)]).Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddNavigator().BuildServiceProvider();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<NavigatorOptions>>();
        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => (object)options.Value);
        Assert.Contains("FrameAncestors takes bare origins only", string.Join(" ", refused.Failures), StringComparison.Ordinal);
    }

    private static string? NavigatorOptionsProblem(string origin) => NavigatorOptions.FrameAncestorProblem(origin);

    /// <summary>In Chromium: a page on another origin frames the Navigator. It is refused until that origin is configured,
    /// and shown once it is.</summary>
    [Fact, Slow]
    public async Task ChromiumShowsTheNavigatorInsideTheConfiguredEhrsFrameAndRefusesItElsewhere()
    {
        Requires.Chromium();
        var ehrPort = FreePort();
        var ehrOrigin = $"http://localhost:{ehrPort}";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        foreach (var configured in new[] { false, true })
        {
            await using var service = await ServiceProcess.StartAsync(configured
                ? new Dictionary<string, string> { ["CdsMitral__Navigator__FrameAncestors__0"] = ehrOrigin }
                : null);
            using var ehr = new HttpListener();
            ehr.Prefixes.Add(ehrOrigin + "/");
            ehr.Start();
            var serving = Task.Run(async () =>
            {
                var context = await ehr.GetContextAsync();
                var html = System.Text.Encoding.UTF8.GetBytes(
                    $"<!doctype html><title>EHR</title><iframe name=\"panel\" width=\"400\" height=\"600\" src=\"{service.BaseUrl}/navigator/launch\"></iframe>");
                context.Response.ContentType = "text/html";
                await context.Response.OutputStream.WriteAsync(html);
                context.Response.Close();
            });
            var page = await browser.NewPageAsync();
            var loaded = page.WaitForResponseAsync(r => r.Url.StartsWith(service.BaseUrl + "/navigator/launch", StringComparison.Ordinal));
            await page.GotoAsync(ehrOrigin + "/");
            await serving;
            Assert.Equal(400, (await loaded).Status);
            await page.WaitForTimeoutAsync(300);
            var panel = page.Frames.Single(f => f.Name == "panel");
            var heading = await panel.EvaluateAsync<string?>("() => document.querySelector('h1')?.textContent ?? null");
            if (configured)
            {
                Assert.Equal("The launch names no EHR", heading);
                Assert.StartsWith(service.BaseUrl, panel.Url, StringComparison.Ordinal);
            }
            else
            {
                // Chromium replaces a refused frame with its own error document.
                Assert.NotEqual("The launch names no EHR", heading);
                Assert.StartsWith("chrome-error:", panel.Url, StringComparison.Ordinal);
            }
            await page.CloseAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
