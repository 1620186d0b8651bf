using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.Playwright;

namespace CdsMitral.Tests.Audit;

/// <summary>Charts whose text is written to attack the auditor's browser: every audit page built from them, and every
/// content page, loads in Chromium without running anything the chart put there.</summary>
[Slow]
public sealed class HostilePageBrowserTests
{
    /// <summary>Each would set window.__x (or show a dialog) if the page let it run.</summary>
    public static readonly string[] Payloads =
    [
        "![i](/x.png){onerror=\"window.__x=1\"}",
        "<img src=x onerror=\"window.__x=2\">",
        "<script>window.__x=3</script>",
        "[a](javascript:window.__x=4)",
        "\n\n# Patient QUALIFIES for TEER - schedule now {onclick=\"window.__x=5\"}\n\n",
        "<javascript:window.__x=6>",
        "[b](<java\tscript:window.__x=7>)",
        "![r](https://attacker.example/beacon.png)",
        "x{onmouseover=\"window.__x=9\" style=\"position:fixed;inset:0\"}",
        "<svg onload=alert(10)>",
        "[c](data:text/html,<script>window.__x=11</script>)",
    ];

    [Fact]
    public async Task NothingAChartSaysRunsOnTheAuditOrContentPages()
    {
        Requires.Chromium();
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Audit__Auditors__0__User"] = AuditSupport.AuditorUser,
            ["CdsMitral__Audit__Auditors__0__PasswordHash"] = AuditSupport.AuditorHash,
        });
        var t = Terminology.Terminology.Embedded;
        var i = 0;
        foreach (var payload in Payloads)
        {
            // The same payload as resource ids, medication and condition text, and a unit: every field a card quotes.
            var patient = $"p{i++}";
            var ids = new Chart(patient)
                .Mr("severe", "2026-10-01", "secondary-ventricular", id: "mr" + payload).Lvef(32, "2026-10-01", id: "lvef" + payload)
                .Lvesd(58, "2026-10-01", id: "lvesd" + payload).Pasp(45, "2026-10-01", id: "pasp" + payload)
                .Medication("200031", "carvedilol " + payload).Medication("1656340", "sacubitril/valsartan " + payload, "MedicationStatement")
                .Condition("http://snomed.info/sct", "49436004", "Atrial fibrillation " + payload);
            var gaps = new Chart(patient + "g")
                .Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01", unit: payload).Lvesd(58, "2026-10-01", unit: payload)
                .Medication("200031", payload);
            await Post(service, Requests.PatientView(patient, ids.Prefetch(t)));
            await Post(service, Requests.PatientView(patient + "g", gaps.Prefetch(t)));
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = AuditSupport.AuditorUser, Password = AuditSupport.AuditorPassword },
        });
        var dialogs = new List<string>();
        var offsite = new List<string>();
        context.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        context.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(service.BaseUrl, StringComparison.Ordinal))
            {
                offsite.Add(request.Url);
            }
        };
        var page = await context.NewPageAsync();
        var urls = new List<string> { "/audit", "/content" };
        using (var auditor = new HttpClient { BaseAddress = new Uri(service.BaseUrl) })
        {
            auditor.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AuditSupport.AuditorUser}:{AuditSupport.AuditorPassword}")));
            var items = JsonNode.Parse(await auditor.GetStringAsync("/audit/api/invocations"))!["items"]!.AsArray();
            Assert.Equal(2 * Payloads.Length, items.Count);
            urls.AddRange(items.Select(item => $"/audit/invocations/{item!["eventId"]}"));
        }
        urls.AddRange(Content.ContentCatalog.Embedded.Pages.Select(p => $"/content/{p.Slug}"));
        // The filters are written back into the list page's form: the card and patient searches included.
        urls.AddRange(Payloads.SelectMany(p => new[] { $"/audit?card={Uri.EscapeDataString(p)}", $"/audit?patient={Uri.EscapeDataString(p)}" }));

        var problems = new List<string>();
        foreach (var url in urls)
        {
            var response = await page.GotoAsync(service.BaseUrl + url);
            Assert.Equal(200, response!.Status);
            // Handlers that need a hover or a click never fire here: finding any on* attribute is the proof they cannot.
            var found = await page.EvaluateAsync<string[]>("""
                () => {
                  const bad = [];
                  if (window.__x !== undefined) bad.push('window.__x = ' + window.__x);
                  for (const el of document.querySelectorAll('*')) {
                    const tag = el.tagName.toLowerCase();
                    if (['script', 'iframe', 'object', 'embed', 'svg', 'base'].includes(tag)) bad.push('element ' + tag);
                    for (const a of el.attributes) {
                      const value = a.value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
                      if (a.name.toLowerCase().startsWith('on')) bad.push(tag + ' ' + a.name + '=' + a.value);
                      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name.toLowerCase())
                          && (value.startsWith('javascript:') || value.startsWith('data:') || value.startsWith('vbscript:'))) bad.push(tag + ' ' + a.name + '=' + a.value);
                    }
                    if (tag === 'img' && new URL(el.src, location.href).origin !== location.origin) bad.push('remote image ' + el.src);
                  }
                  return bad;
                }
                """);
            problems.AddRange(found.Select(f => $"{url}: {f}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Empty(dialogs);
        Assert.Empty(offsite);
    }

    private static async Task Post(ServiceProcess service, JsonObject request)
    {
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await service.Http.PostAsync("/cds-services/secondary-mr-patient-view", content);
        // Some payloads make a resource unusable or the request invalid: the refusal is recorded, and its page must be safe too.
        Assert.True((int)response.StatusCode is 200 or 400 or 412, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
