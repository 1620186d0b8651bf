using CdsMitral.Content;
using CdsMitral.Rules;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

public sealed class ContentTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    /// <summary>The pages clinical-logic.md asks for, by the slug the cards use.</summary>
    public static TheoryData<string> RequiredPages() => new()
    {
        "why-teer-does-not-fix-the-ventricle",
        "secondary-mr-causes-and-mechanisms",
        "gdmt-before-intervention",
        "coapt-and-mitra-fr",
        "teer-procedure",
        "perioperative-secondary-mr",
        "acute-severe-mr-critically-ill",
        "mitral-regurgitation-for-patients",
    };

    [Theory]
    [MemberData(nameof(RequiredPages))]
    public async Task EachExplanatoryPageIsServedAsReadableHtmlWithItsSourcesAndTheNoteForItsReader(string slug)
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync($"/content/{slug}");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>", html, StringComparison.Ordinal);
        var forPatients = ContentCatalog.Embedded.Get(slug).ForPatients;
        Assert.Equal(!forPatients, html.Contains("not a substitute for clinical judgement", StringComparison.Ordinal));
        Assert.Equal(forPatients, html.Contains(PatientAdvice.Banner, StringComparison.Ordinal));
        Assert.Contains(">Sources</h2>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ThePagesKeepTheirTablesEmphasisAndHeadingAnchorsUnderTheNarrowedMarkdown()
    {
        using var client = service.CreateClient();
        var html = await client.GetStringAsync("/content/gdmt-before-intervention");
        Assert.Contains("<th>Class</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>carvedilol, metoprolol <strong>succinate</strong>, bisoprolol</td>", html, StringComparison.Ordinal);
        Assert.Contains("<h2 id=\"sources\">Sources</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheContentIndexListsEveryPage()
    {
        using var client = service.CreateClient();
        var html = await client.GetStringAsync("/content");
        Assert.All(ContentCatalog.Embedded.Pages, p => Assert.Contains($"/content/{p.Slug}", html, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownPageAnswers404WithAnOperationOutcome()
    {
        using var client = service.CreateClient();
        var response = await HookResponse.ReadAsync(await client.GetAsync("/content/no-such-page"));
        Assert.Equal(404, response.Status);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
    }

    [Fact]
    public void EveryPageACardLinksToExists()
    {
        var chartsThatFireEverything = new[]
        {
            SecondaryMrRules.EvaluatePatientView(new Snapshot.SnapshotBuilder(Terminology.Terminology.Embedded, new()).Build(new Chart().Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Lvesd(74, "2026-10-01").PriorTeer("2025-01-01").Record(), ServiceFactory.Today)),
        };
        var slugs = chartsThatFireEverything.SelectMany(e => e.Considerations).SelectMany(c => c.ContentSlugs).Distinct().ToList();
        Assert.NotEmpty(slugs);
        Assert.All(slugs, s => Assert.NotNull(ContentCatalog.Embedded.Find(s)));
    }

    /// <summary>Issue 22, item 2: a page names a clinical number or an evidence statement through its placeholder, so that a
    /// threshold changed in Thresholds.cs, or a figure corrected in Evidence.cs, changes every page with the cards.</summary>
    [Fact]
    public void NoPageTypesAThresholdOrAnEvidenceStatementThatHasAPlaceholder()
    {
        var typed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Repo.PathOf("cds-cards"), "*.md"))
        {
            var raw = File.ReadAllText(file);
            foreach (var (key, text) in CdsMitral.Clinical.Thresholds.ByKey.Where(t => t.Value.Any(char.IsDigit) && t.Value.Length > 5)
                .Concat(CdsMitral.Clinical.Evidence.ByKey.Where(e => e.Value.Length > 60)))
            {
                if (raw.Contains(text, StringComparison.Ordinal))
                {
                    typed.Add($"{Path.GetFileName(file)} types \"{text}\" ({key})");
                }
            }
        }
        Assert.True(typed.Count == 0, string.Join("\n", typed));
        Assert.All(ContentCatalog.Embedded.Pages, p => Assert.DoesNotContain("{{", p.Markdown, StringComparison.Ordinal));
        Assert.Contains(CdsMitral.Clinical.Thresholds.LvefWindowText, ContentCatalog.Embedded.Get("coapt-and-mitra-fr").Markdown, StringComparison.Ordinal);
        Assert.Contains(CdsMitral.Clinical.Evidence.Coapt5Year, ContentCatalog.Embedded.Get("coapt-and-mitra-fr").Markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownPlaceholderStopsTheCatalogInsteadOfShowingAHole()
    {
        var page = "---\nslug: x\ntitle: X\naudience: clinicians\nsummary: s\nupdated: 2026-12-07\n---\nLVEF {{threshold:lvef-windw}}\n";
        var error = Assert.Throws<InvalidDataException>(() => new ContentCatalog([("cds-cards/x.md", page)]));
        Assert.Contains("lvef-windw", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Decisions 21 and 25: no page reads as eligibility, and none says surgery is the standard for secondary MR.</summary>
    [Fact]
    public void NoPageSaysQualifiesEligibleMatchesTheProfileOrThatSurgeryIsTheStandard()
    {
        foreach (var page in ContentCatalog.Embedded.Pages)
        {
            foreach (var phrase in new[] { "qualif", "eligib", "matches the", "surgery remains the standard", "remains the standard" })
            {
                Assert.False(page.Markdown.Contains(phrase, StringComparison.OrdinalIgnoreCase), $"{page.Slug} says \"{phrase}\"");
            }
        }
    }
}
