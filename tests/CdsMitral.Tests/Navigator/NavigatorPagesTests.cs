using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using CdsMitral.Navigator;
using CdsMitral.Service.Navigator;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Samples;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

using static CdsMitral.Tests.Navigator.NavigatorFixtures;

namespace CdsMitral.Tests.Navigator;

/// <summary>The Navigator's pages, parsed as a browser would: a label for every input, a legend for every group, nothing
/// from a record or a launch that becomes markup, no script and no inline style; and the posted form read back.</summary>
public sealed class NavigatorPagesTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private static readonly HtmlParser Parser = new();

    private const string Hostile = "<script>window.__x=1</script>\"><img src=x onerror=\"window.__x=2\"><style>*{}</style>&amp; QUALIFIES";

    /// <summary>The shared full answers, with the TEE not done and the rest of what the record cannot show unanswered.</summary>
    private static NavigatorAnswers Full(string user = "Practitioner/dr-a") => NavigatorFixtures.Full(user) with
    {
        HfHospitalisationOrRaisedNp = null,
        TeeAnatomy = TeeAnswer.NotDone,
        SurgicalRisk = null,
        RvFunction = null,
    };

    private static IHtmlDocument Parse(string html) => Parser.ParseDocument(html);

    private static IEnumerable<(string Name, string Html)> EveryPage(PathwayView view, NavigatorAnswers answers, string patient)
    {
        foreach (var step in view.Steps)
        {
            yield return ($"step {step.Id}", NavigatorPages.Step(view, step.Id, "/navigator/step/" + step.Id, NavigatorPages.AntiforgeryInput("__RequestVerificationToken", "tok\"en<")));
        }
        yield return ("result", NavigatorPages.Result(view, writeBackField: NavigatorPages.AntiforgeryInput("__RequestVerificationToken", "t")));
        yield return ("summary", NavigatorPages.ReferralSummary(view, answers, patient));
        foreach (var result in Enum.GetValues<PathwayResult>())
        {
            yield return ($"patient page for {result}", NavigatorPages.PatientPage(result));
        }
        yield return ("problem", NavigatorPages.Problem("The launch was refused", patient));
    }

    /// <summary>Whatever the page, nothing can run or restyle it: no script or style element, no event-handler or style
    /// attribute, no javascript: URL, only the one served stylesheet.</summary>
    private static void AssertInert(string name, IHtmlDocument doc)
    {
        Assert.Empty(doc.QuerySelectorAll("script, style, iframe, object, embed, img"));
        foreach (var element in doc.All)
        {
            Assert.DoesNotContain(element.Attributes, a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase) || a.Name == "style");
            foreach (var url in new[] { element.GetAttribute("href"), element.GetAttribute("action"), element.GetAttribute("src") }.OfType<string>())
            {
                Assert.False(url.TrimStart().StartsWith("javascript:", StringComparison.OrdinalIgnoreCase), $"{name}: {url}");
            }
        }
        var sheets = doc.QuerySelectorAll("link[rel=stylesheet]").Select(l => l.GetAttribute("href")).ToList();
        Assert.Equal([NavigatorPages.StylesheetPath], sheets);
    }

    private static void AssertAccessible(string name, IHtmlDocument doc)
    {
        Assert.Equal("en", doc.DocumentElement.GetAttribute("lang"));
        Assert.NotNull(doc.QuerySelector("meta[name=viewport]"));
        Assert.Single(doc.QuerySelectorAll("h1"));
        foreach (var input in doc.QuerySelectorAll("input, select, textarea").Where(i => i.GetAttribute("type") != "hidden"))
        {
            var id = input.Id;
            var labelled = (id is { Length: > 0 } && doc.QuerySelectorAll("label").Any(l => l.GetAttribute("for") == id)) || input.Closest("label") is not null;
            Assert.True(labelled, $"{name}: input {input.OuterHtml} has no label");
        }
        foreach (var fieldset in doc.QuerySelectorAll("fieldset"))
        {
            Assert.False(string.IsNullOrWhiteSpace(fieldset.QuerySelector("legend")?.TextContent), $"{name}: a fieldset without a legend");
        }
        var ids = doc.All.Select(e => e.Id).OfType<string>().Where(i => i.Length > 0).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.DoesNotContain(doc.All, e => int.TryParse(e.GetAttribute("tabindex"), out var t) && t > 0);
        Assert.All(doc.QuerySelectorAll("form"), f => Assert.Equal("post", f.GetAttribute("method")));
        Assert.All(doc.QuerySelectorAll("a"), a => Assert.False(string.IsNullOrEmpty(a.GetAttribute("href"))));
    }

    public static TheoryData<string> Samples() => [.. SamplePatients.All.Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(Samples))]
    public void EveryPageOfEverySampleHasALabelForEveryInputAndNothingThatRunsOrRestyles(string sample)
    {
        var snapshot = SnapshotOf(SamplePatients.All.Single(p => p.Name == sample).Chart);
        foreach (var answers in new[] { NavigatorAnswers.None("Practitioner/dr-a", Now), Full() })
        {
            var view = NavigatorPathway.Evaluate(snapshot, answers, Now);
            foreach (var (name, html) in EveryPage(view, answers, sample))
            {
                var doc = Parse(html);
                AssertInert($"{sample} {name}", doc);
                AssertAccessible($"{sample} {name}", doc);
            }
        }
    }

    [Fact]
    public void HostileTextFromTheRecordTheLaunchAndTheUserIsShownAsTextOnEveryPage()
    {
        const string day = "2026-10-01";
        var chart = new Chart().Mr("severe", day, "secondary-ventricular", id: "mr-1").Lvef(32, day).Lvesd(58, day).Pasp(45, day)
            .Medication("200033", Hostile).Medication("1656340", "sacubitril / valsartan").Medication("313096", "spironolactone")
            .Medication("1545658", "empagliflozin").Medication("99999999", Hostile).Condition(Chart.Snomed, "703272007", Hostile);
        var answers = Full(Hostile);
        var view = NavigatorPathway.Evaluate(SnapshotOf(chart), answers, Now);
        foreach (var (name, html) in EveryPage(view, answers, Hostile).Where(p => p.Name != "patient page"))
        {
            var doc = Parse(html);
            AssertInert(name, doc);
            Assert.DoesNotContain("window.__x", string.Concat(doc.All.SelectMany(e => e.Attributes).Select(a => a.Value)), StringComparison.Ordinal);
        }
        Assert.Contains(Hostile, Parse(NavigatorPages.Step(view, StepIds.Gdmt, "/s", "")).Body!.TextContent, StringComparison.Ordinal);
        Assert.Contains(Hostile, Parse(NavigatorPages.Step(view, StepIds.Mechanism, "/s", "")).Body!.TextContent, StringComparison.Ordinal);
        var summary = Parse(NavigatorPages.ReferralSummary(view, answers, Hostile));
        Assert.Contains($"Patient: {Hostile}", summary.Body!.TextContent, StringComparison.Ordinal);
        Assert.Contains($"attested by {Hostile} on 2026-11-21", summary.Body.TextContent, StringComparison.Ordinal);
        Assert.Contains(Hostile, Parse(NavigatorPages.Problem(Hostile, Hostile)).QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void MarkdownAJavascriptLinkAndALoneSurrogateFromTheRecordStayInertText()
    {
        const string payload = "[open](javascript:alert(1)) **now** \ud800 <a href=\"javascript:alert(2)\">x</a>";
        const string day = "2026-10-01";
        var chart = new Chart().Mr("severe", day, "secondary-ventricular").Lvef(32, day).Lvesd(58, day).Pasp(45, day)
            .Medication("200033", payload).Condition(Chart.Snomed, "703272007", payload);
        var view = NavigatorPathway.Evaluate(SnapshotOf(chart), Full(), Now);
        foreach (var (name, html) in EveryPage(view, Full(), payload).Where(p => p.Name != "patient page"))
        {
            var doc = Parse(html);
            AssertInert(name, doc);
            Assert.DoesNotContain(doc.All.SelectMany(e => e.Attributes), a => a.Value.Contains("javascript:", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(doc.QuerySelectorAll("strong, b"), e => e.TextContent == "now");
            Assert.DoesNotContain('\ud800', html);
        }
        var gdmt = Parse(NavigatorPages.Step(view, StepIds.Gdmt, "/s", "")).Body!.TextContent;
        Assert.Contains("[open](javascript:alert(1)) **now**", gdmt, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReferralSummaryShowsEveryValueWithItsDateAndSourceTheAttestedAnswersAndTheResult()
    {
        var snapshot = SnapshotOf(SamplePatients.All.Single(p => p.Name == "coapt-profile").Chart);
        var answers = Full();
        var view = NavigatorPathway.Evaluate(snapshot, answers, Now);
        var doc = Parse(NavigatorPages.ReferralSummary(view, answers, "coapt-profile"));
        var rows = doc.QuerySelectorAll("table")[0].QuerySelectorAll("tbody tr").Select(r => r.QuerySelectorAll("td").Select(c => c.TextContent).ToList()).ToList();
        var lvef = rows.Single(r => r[1] == "LVEF");
        Assert.Equal("32 %", lvef[2].Split(' ', 3) is var parts ? $"{parts[0]} {parts[1]}" : "");
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", lvef[3]);
        Assert.StartsWith("Observation/", lvef[4], StringComparison.Ordinal);
        var attested = doc.QuerySelectorAll("table")[1].QuerySelectorAll("tbody tr").ToList();
        Assert.Equal(view.Attested.Count, attested.Count);
        Assert.All(attested, r => Assert.Equal("attested by Practitioner/dr-a on 2026-11-21", r.QuerySelectorAll("td")[2].TextContent));
        Assert.Equal("COAPT-like profile: refer to the Heart Valve Team", doc.QuerySelector("#result")!.TextContent);
        Assert.Contains("Valve anatomy suitable for TEER on transoesophageal echo", doc.QuerySelector("#confirm + ul")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void AStepShowsTheRecordsSuggestionButLeavesTheAnswerToTheClinician()
    {
        var view = NavigatorPathway.Evaluate(SnapshotOf(SamplePatients.All.Single(p => p.Name == "coapt-profile").Chart), NavigatorAnswers.None("Practitioner/dr-a", Now), Now);
        var doc = Parse(NavigatorPages.Step(view, StepIds.Symptoms, "/navigator/step/symptoms", ""));
        Assert.True(((IHtmlInputElement)doc.GetElementById("nyha-none")!).IsChecked);
        Assert.False(((IHtmlInputElement)doc.GetElementById("nyha-III")!).IsChecked);
        Assert.Contains("(on record)", doc.QuerySelector("label[for=nyha-III]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("stale", Parse(NavigatorPages.Step(NavigatorPathway.Evaluate(SnapshotOf(SamplePatients.All.Single(p => p.Name == "stale-echo").Chart), Full(), Now), StepIds.Window, "/s", ""))
            .QuerySelector("li.flagged .status")!.TextContent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("atrial-and-preserved-ef-secondary-mr")]
    public async Task TheNavigatorsNewContentPagesAreServedWithTheirSourcesAndTheNote(string slug)
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync($"/content/{slug}");
        Assert.Equal(200, (int)response.StatusCode);
        var doc = Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("not a substitute for clinical judgement", doc.Body!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(doc.GetElementById("sources"));
    }

    [Fact]
    public void TheTeerPatientPageSaysWhatSecondaryMrIsWhyMedicinesComeFirstAndWhatAClipCanAndCannotDo()
    {
        var doc = Parse(NavigatorPages.PatientPage(PathwayResult.CoaptLikeReferToHeartValveTeam));
        var headings = doc.QuerySelectorAll("h2").Select(h => h.TextContent).ToList();
        Assert.Contains("What is wrong", headings);
        Assert.Contains("Medicines come first", headings);
        Assert.Contains("What a valve clip can do", headings);
        Assert.Contains("What a clip cannot do", headings);
        Assert.DoesNotMatch("(?i)qualif|eligib", doc.Body!.TextContent);
    }

    [Fact]
    public void APostedStepChangesOnlyItsOwnQuestionsClearsOnEmptyAndIgnoresValuesThatAreNotOptions()
    {
        var before = Full() with { Mra = PillarAnswer.MaximallyTolerated };
        var form = new FormCollection(new Dictionary<string, StringValues>
        {
            [NavigatorQuestions.Nyha] = "II",
            [NavigatorQuestions.SymptomsPersist] = "",
            [NavigatorQuestions.TeeAnatomy] = "<script>",
            ["step"] = StepIds.Symptoms,
            ["go"] = "next",
        });
        var later = Now.AddMinutes(3);
        var after = NavigatorForms.Read(form, before, later);
        Assert.Equal(NyhaAnswer.II, after.Nyha);
        Assert.Null(after.SymptomsPersistDespiteGdmt);
        Assert.Null(after.TeeAnatomy);
        Assert.Equal(PillarAnswer.MaximallyTolerated, after.Mra);
        Assert.Equal(later, after.AttestedAt);
        Assert.Same(before, NavigatorForms.Read(new FormCollection([]), before, later));
        var view = NavigatorPathway.Evaluate(SnapshotOf(SamplePatients.All.Single(p => p.Name == "coapt-profile").Chart), after, Now);
        Assert.Equal(StepIds.Window, NavigatorForms.Target(form, view, StepIds.Symptoms));
        Assert.Null(NavigatorForms.Target(form, view, StepIds.Context));
    }

    [Fact]
    public void EveryOptionOnAStepPostsBackAsTheAnswerItNames()
    {
        var view = NavigatorPathway.Evaluate(SnapshotOf(SamplePatients.All.Single(p => p.Name == "coapt-gdmt-gap").Chart), NavigatorAnswers.None("Practitioner/dr-a", Now), Now);
        foreach (var step in view.Steps.Where(s => s.Questions.Count > 0))
        {
            var doc = Parse(NavigatorPages.Step(view, step.Id, "/s", ""));
            foreach (var radio in doc.QuerySelectorAll("input[type=radio]").Cast<IHtmlInputElement>().Where(r => r.Value.Length > 0))
            {
                var answers = NavigatorForms.Read(new FormCollection(new Dictionary<string, StringValues> { [radio.Name!] = radio.Value }), view.Answers);
                Assert.Equal(radio.Value, NavigatorQuestions.Get(radio.Name!).AnswerCode(answers));
            }
        }
    }
}
