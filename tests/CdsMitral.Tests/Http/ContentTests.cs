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
    public async Task EachExplanatoryPageIsServedAsReadableHtmlWithItsSourcesAndTheNote(string slug)
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync($"/content/{slug}");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>", html, StringComparison.Ordinal);
        Assert.Contains("not a substitute for clinical judgement", html, StringComparison.Ordinal);
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
}
