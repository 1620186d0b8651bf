using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.Playwright;

namespace CdsMitral.Tests.Audit;

/// <summary>An auditor at the /audit pages, in a real browser: log in, filter, open a record, see its cards and feedback, export.</summary>
[Slow]
public sealed class AuditPageBrowserTests
{
    [Fact]
    public async Task AnAuditorFiltersOpensARecordSeesItsCardsAndFeedbackAndDownloadsTheCsv()
    {
        Requires.Chromium();
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Audit__Auditors__0__User"] = AuditSupport.AuditorUser,
            ["CdsMitral__Audit__Auditors__0__PasswordHash"] = AuditSupport.AuditorHash,
        });
        // Three charts open; the clinician dismisses alice's card with a reason.
        var t = Terminology.Terminology.Embedded;
        var alice = await Post(service, Requests.PatientView("alice", new Chart("alice").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(t)));
        await Post(service, Requests.PatientView("bob", new Chart("bob").Prefetch(t)));
        await Post(service, Requests.PatientView("carol", new Chart("carol").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(30, "2026-10-01").Lvesd(76, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(t)));
        var card = alice["cards"]![0]!;
        var feedback = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:05:00Z",
                ["overrideReason"] = new JsonObject
                {
                    ["reason"] = new JsonObject { ["code"] = "already-evaluated-hvt", ["system"] = "https://fhir.cdsmitral.org/CodeSystem/override-reason" },
                    ["userComment"] = "seen by the team last week",
                },
            }),
        }.ToJsonString();
        using (var content = new StringContent(feedback, Encoding.UTF8, "application/json"))
        {
            Assert.True((await service.Http.PostAsync("/cds-services/secondary-mr-patient-view/feedback", content)).IsSuccessStatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        // Without credentials, the pages stay shut.
        await using (var stranger = await browser.NewContextAsync())
        {
            // (A page navigation would end in the browser's login prompt; the request API shows the status itself.)
            var denied = await stranger.APIRequest.GetAsync($"{service.BaseUrl}/audit");
            Assert.Equal(401, denied.Status);
        }
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = AuditSupport.AuditorUser, Password = AuditSupport.AuditorPassword },
            AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{service.BaseUrl}/audit");
        Assert.Contains("Chain intact: 4 events", await page.InnerTextAsync("#chain"), StringComparison.Ordinal);
        Assert.Equal(3, await page.Locator("#invocations tbody tr").CountAsync());

        // Filter by rule: only carol's call fired the outside-range card.
        await page.SelectOptionAsync("select[name=rule]", "smr-outside-range");
        await page.ClickAsync("button[type=submit]");
        Assert.Equal(1, await page.Locator("#invocations tbody tr").CountAsync());
        Assert.Contains("carol", await page.InnerTextAsync("#invocations tbody"), StringComparison.Ordinal);

        // Filter by feedback outcome, then open the record.
        await page.GotoAsync($"{service.BaseUrl}/audit");
        await page.SelectOptionAsync("select[name=feedback]", "overridden");
        await page.ClickAsync("button[type=submit]");
        Assert.Equal(1, await page.Locator("#invocations tbody tr").CountAsync());
        await page.ClickAsync("#invocations tbody tr a");
        await page.WaitForSelectorAsync(".card");
        var cardText = await page.InnerTextAsync(".card");
        Assert.Contains((string)card["summary"]!, cardText, StringComparison.Ordinal);
        Assert.Contains("Values used", cardText, StringComparison.Ordinal); // the markdown detail, rendered
        Assert.Equal(4, await page.Locator(".card a").CountAsync()); // three content pages and the Navigator's SMART link
        Assert.Equal(1, await page.Locator(".card a[href$='/navigator/launch']").CountAsync());
        var feedbackText = await page.InnerTextAsync("#feedback");
        Assert.Contains("overridden", feedbackText, StringComparison.Ordinal);
        Assert.Contains("seen by the team last week", feedbackText, StringComparison.Ordinal);
        Assert.Contains("smr-coapt-profile", await page.InnerTextAsync("body"), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetTempPath(), "cdsmitral-audit-detail.png"), FullPage = true });

        // Export the current filter as CSV, as a download.
        await page.GotoAsync($"{service.BaseUrl}/audit?patient=alice");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-csv"));
        Assert.Equal("cdsmitral-audit.csv", download.SuggestedFilename);
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("alice", lines[1], StringComparison.Ordinal);
        Assert.Contains("overridden", lines[1], StringComparison.Ordinal);
    }

    private static async Task<JsonNode> Post(ServiceProcess service, JsonObject request)
    {
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await service.Http.PostAsync("/cds-services/secondary-mr-patient-view", content);
        Assert.True(response.IsSuccessStatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
