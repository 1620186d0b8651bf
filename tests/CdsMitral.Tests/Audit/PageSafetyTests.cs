using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Audit;

/// <summary>What the audit and content pages send with every answer, and what hostile chart text becomes in them,
/// checked over HTTP (the Chromium test shows the same in a browser).</summary>
public sealed class PageSafetyTests
{
    [Fact]
    public async Task EveryAuditAndContentAnswerForbidsScriptFramingAndSniffingAndAuditAnswersAreNotStored()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", new Chart("p1").Prefetch(Terminology.Terminology.Embedded)))).Status);
        using var auditor = service.AuditorClient();
        using var stranger = service.CreateClient();
        var id = (string)(await service.AuditApi("/audit/api/invocations"))["items"]![0]!["eventId"]!;
        var answers = new List<(string Url, bool Audit, HttpResponseMessage Response)>();
        foreach (var url in new[] { "/audit", $"/audit/invocations/{id}", "/audit/invocations/no-such-id", "/audit/api/invocations", $"/audit/api/invocations/{id}", "/audit/api/verify", "/audit/export.csv", "/audit/export.ndjson" })
        {
            answers.Add((url, true, await auditor.GetAsync(url)));
        }
        answers.Add(("/audit (no credentials)", true, await stranger.GetAsync("/audit")));
        foreach (var url in new[] { "/content", "/content/teer-procedure", "/content/no-such-page" })
        {
            answers.Add((url, false, await stranger.GetAsync(url)));
        }

        foreach (var (url, audit, response) in answers)
        {
            var csp = string.Join(";", response.Headers.TryGetValues("Content-Security-Policy", out var v) ? v : []);
            var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            Assert.True(directives.Contains("default-src 'none'"), $"{url}: CSP '{csp}'");
            Assert.Contains("frame-ancestors 'none'", directives);
            Assert.Contains("base-uri 'none'", directives);
            Assert.Contains("form-action 'self'", directives);
            Assert.Contains("img-src 'self'", directives);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            if (audit)
            {
                Assert.True(response.Headers.CacheControl?.NoStore == true, $"{url}: Cache-Control {response.Headers.CacheControl}");
            }
            // The pages still have their style: each <style> block is allowed by its hash.
            var html = await response.Content.ReadAsStringAsync();
            foreach (Match style in Regex.Matches(html, "<style>(.*?)</style>", RegexOptions.Singleline))
            {
                var hash = $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(style.Groups[1].Value)))}'";
                Assert.Contains(hash, csp, StringComparison.Ordinal);
            }
            Assert.DoesNotContain(" style=", html, StringComparison.Ordinal);
            response.Dispose();
        }
    }

    [Fact]
    public async Task HostileChartTextBecomesTextOnTheDetailPageNeverAHandlerAScriptOrAScriptUrl()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        var t = Terminology.Terminology.Embedded;
        var i = 0;
        foreach (var payload in HostilePageBrowserTests.Payloads)
        {
            var patient = $"h{i++}";
            var chart = new Chart(patient)
                .Mr("severe", "2026-10-01", "secondary-ventricular", id: "mr" + payload).Lvef(32, "2026-10-01", id: "lvef" + payload)
                .Lvesd(58, "2026-10-01", id: "lvesd" + payload).Pasp(45, "2026-10-01", id: "pasp" + payload)
                .Medication("200031", "carvedilol " + payload).Medication("1656340", "sacubitril/valsartan " + payload, "MedicationStatement");
            await service.PostAsync(Requests.PatientViewId, Requests.PatientView(patient, chart.Prefetch(t)));
        }
        using var auditor = service.AuditorClient();
        var items = (await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray();
        Assert.Equal(HostilePageBrowserTests.Payloads.Length, items.Count);
        foreach (var item in items)
        {
            var html = await auditor.GetStringAsync($"/audit/invocations/{item!["eventId"]}");
            foreach (Match tag in Regex.Matches(html, "<[a-zA-Z][^>]*>"))
            {
                Assert.DoesNotMatch(new Regex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase), tag.Value);
                Assert.DoesNotMatch(new Regex(@"(href|src)\s*=\s*""?\s*(javascript|data|vbscript):", RegexOptions.IgnoreCase), tag.Value);
                Assert.DoesNotMatch(new Regex(@"^<(script|iframe|object|embed|svg|base)\b", RegexOptions.IgnoreCase), tag.Value);
                Assert.DoesNotMatch(new Regex(@"^<img\b[^>]*src=""(https?:)?//", RegexOptions.IgnoreCase), tag.Value);
            }
        }
    }
}
