using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Playwright;

namespace CdsMitral.Tests.Fatigue;

/// <summary>The committee's view in a real browser: the charts are drawn, and the strict CSP is never broken to draw them.</summary>
[Slow]
public sealed class InsightsPageBrowserTests
{
    [Fact]
    public async Task AnAuditorOpensTheInsightsAndSeesTheChartsDrawnWithoutAnyCspViolation()
    {
        Requires.Chromium();
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Audit__Auditors__0__User"] = AuditSupport.AuditorUser,
            ["CdsMitral__Audit__Auditors__0__PasswordHash"] = AuditSupport.AuditorHash,
        });
        // A chart opened, its COAPT-like card overridden as already evaluated, the chart opened again: the card stands back.
        var request = StandBackScenarios.Open(StandBackScenarios.CoaptWithGap("dora"));
        var first = await Post(service, "/cds-services/secondary-mr-patient-view", request.ToJsonString());
        var card = first["cards"]!.AsArray().First(c => (string?)c!["source"]!["topic"]!["code"] == "smr-coapt-profile")!;
        await Post(service, "/cds-services/secondary-mr-patient-view/feedback", new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:05:00Z",
                ["overrideReason"] = new JsonObject { ["reason"] = new JsonObject { ["code"] = "already-evaluated-hvt", ["system"] = StandBackScenarios.Ours } },
            }),
        }.ToJsonString());
        request["hookInstance"] = Guid.NewGuid().ToString();
        var again = await Post(service, "/cds-services/secondary-mr-patient-view", request.ToJsonString());
        Assert.Single(again["cards"]!.AsArray());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = AuditSupport.AuditorUser, Password = AuditSupport.AuditorPassword },
        });
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            // The browser's own favicon request (nothing is served there) is not the page's doing.
            if (message.Type is "error" or "warning" && !message.Location.Contains("/favicon.ico", StringComparison.Ordinal))
            {
                problems.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => problems.Add(error);
        // The auditor finds the insights from the audit trail's header.
        await page.GotoAsync($"{service.BaseUrl}/audit");
        var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("a[href='/audit/insights']"),
            r => r.Url.EndsWith("/audit/insights", StringComparison.Ordinal));
        Assert.Equal(200, response!.Status);
        Assert.Contains("default-src 'none'", await response.HeaderValueAsync("content-security-policy") ?? "", StringComparison.Ordinal);

        // Two charts (one per rule that fired), each with its bars laid out by the browser.
        Assert.Equal(2, await page.Locator("svg.insights-chart").CountAsync());
        var chart = $"#chart-smr-coapt-profile-{CoaptVersion.Replace(".", "\\.", StringComparison.Ordinal)}";
        var shown = page.Locator($"{chart} rect.bar.shown");
        var box = await shown.BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.Height > 50 && box.Width > 5, $"the bar is {box.Width}×{box.Height}");
        var suppressed = await page.Locator($"{chart} rect.bar.suppressed").BoundingBoxAsync();
        Assert.True(suppressed!.Height > 50, "one of two fired calls stood back: its bar is drawn");
        // The stylesheet the CSP allows by hash is applied.
        Assert.Equal("collapse", await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('#insights')).borderCollapse"));
        var row = await page.Locator("#insights tbody tr").First.InnerTextAsync();
        Assert.Contains("smr-coapt-profile", row, StringComparison.Ordinal);
        Assert.Contains("already-evaluated-hvt ×1", row, StringComparison.Ordinal);

        await page.ReloadAsync(); // a second load, the cache now warm, still draws without complaint
        Assert.Empty(problems);
    }

    private static async Task<JsonNode> Post(ServiceProcess service, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await service.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private static string CoaptVersion => Rules.SecondaryMrRules.All.Single(r => r.Id == "smr-coapt-profile").Version;
}
