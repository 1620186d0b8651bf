using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using CdsMitral.Content;
using CdsMitral.Navigator;
using CdsMitral.Service.Navigator;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Navigator;

/// <summary>Decision 29 of 2026-12-07: the page the clinician gives the patient fits the Navigator's result, reads at
/// about a US grade-8 level, tells the patient when to get help now, and carries the patient banner, not the clinician's
/// note.</summary>
public sealed partial class PatientPageTests(ServiceFactory service, ITestOutputHelper output) : IClassFixture<ServiceFactory>
{
    private static readonly HtmlParser Parser = new();

    public static TheoryData<PathwayResult> Results() => new(Enum.GetValues<PathwayResult>());

    [Theory]
    [MemberData(nameof(Results))]
    public void EachResultsPatientPageTellsWhenToGetHelpAndCarriesThePatientBannerNotTheCliniciansNote(PathwayResult result)
    {
        var doc = Parser.ParseDocument(NavigatorPages.PatientPage(result));
        var text = doc.Body!.TextContent;
        var emergency = doc.QuerySelector("section.emergency");
        Assert.NotNull(emergency);
        Assert.Contains("911", emergency.TextContent, StringComparison.Ordinal);
        Assert.Contains("short of breath", emergency.TextContent, StringComparison.Ordinal);
        Assert.Contains(PatientAdvice.Banner, text, StringComparison.Ordinal);
        Assert.DoesNotContain("not a substitute for clinical judgement", text, StringComparison.Ordinal);
        // Clinical shorthand stays out; "GDMT" may appear where the page explains what the team calls the medicines.
        Assert.DoesNotMatch("(?i)qualif|eligib|COAPT-like|LVEF|LVESD|PASP|EROA", text);
        Assert.Equal(ContentCatalog.Embedded.Get(NavigatorPathway.PatientPageOf(result)).Title, doc.QuerySelector("h1")!.TextContent);
    }

    /// <summary>The result decides the message: a patient told to optimise medicines is not handed the clip page, a patient
    /// with primary MR is not told the leak comes from the muscle, and so on.</summary>
    [Fact]
    public void TheResultsThatNeedDifferentAdviceGetDifferentPages()
    {
        string Page(PathwayResult r) => NavigatorPathway.PatientPageOf(r);
        Assert.Equal(6, new[]
        {
            PathwayResult.CoaptLikeReferToHeartValveTeam, PathwayResult.OptimiseGdmtFirst, PathwayResult.PrimaryMr,
            PathwayResult.AtrialOrPreservedEfSecondaryMr, PathwayResult.AcuteSevereMrCriticallyIll, PathwayResult.MrNotSignificant,
        }.Select(Page).Distinct().Count());
        Assert.DoesNotMatch("(?i)clip", Body(PathwayResult.OptimiseGdmtFirst, "Where this comes from"));
        Assert.DoesNotMatch("(?i)heart muscle .*pulls", Body(PathwayResult.PrimaryMr, ""));
        Assert.Contains("intensive care", Body(PathwayResult.AcuteSevereMrCriticallyIll, ""), StringComparison.Ordinal);
    }

    /// <summary>Flesch-Kincaid grade of what the patient reads (the sources list is for the curious and left out) is at
    /// most 8, the level patient-education guidance (AMA, NIH) asks for.</summary>
    [Theory]
    [MemberData(nameof(Results))]
    public void EachResultsPatientPageReadsAtAboutGradeEight(PathwayResult result)
    {
        var grade = FleschKincaidGrade(Body(result, "Where this comes from"));
        output.WriteLine($"{NavigatorPathway.PatientPageOf(result)}: Flesch-Kincaid grade {grade:F1}");
        Assert.True(grade <= 8.0, $"{NavigatorPathway.PatientPageOf(result)} reads at grade {grade:F1}");
    }

    [Fact]
    public void TheReadabilityMeasureTellsPlainWordsFromDenseOnes()
    {
        Assert.True(FleschKincaidGrade("The valve leaks. Pills help the heart. Ask your team.") < 4);
        Assert.True(FleschKincaidGrade("Transcatheter edge-to-edge repair reduces hospitalisation for heart failure in selected patients with " +
            "ventricular dysfunction and persistent symptoms despite guideline-directed medical therapy.") > 14);
    }

    [Fact]
    public async Task ThePatientPageNeedsANavigatorSessionBecauseItDependsOnTheResult()
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync("/navigator/patient");
        Assert.Equal(401, (int)response.StatusCode);
        Assert.DoesNotContain(PatientAdvice.EmergencyHeading, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("patient-gdmt-first")]
    [InlineData("patient-primary-mr")]
    [InlineData("patient-atrial-mr")]
    [InlineData("patient-acute-mr")]
    [InlineData("patient-mr-not-significant")]
    [InlineData("secondary-mr-treatment-for-patients")]
    public async Task EachPatientPageIsAlsoServedAsContentWithTheEmergencyAdvice(string slug)
    {
        using var client = service.CreateClient();
        using var response = await client.GetAsync($"/content/{slug}");
        Assert.Equal(200, (int)response.StatusCode);
        var doc = Parser.ParseDocument(await response.Content.ReadAsStringAsync());
        Assert.Contains(PatientAdvice.Emergency, doc.QuerySelector("section.emergency")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(PatientAdvice.Banner, doc.Body!.TextContent, StringComparison.Ordinal);
    }

    /// <summary>The prose of the patient page for a result (paragraphs and list items of the page's own body), stopping at
    /// the heading named <paramref name="stopAt"/> if given.</summary>
    private static string Body(PathwayResult result, string stopAt)
    {
        var main = Parser.ParseDocument(NavigatorPages.PatientPage(result)).QuerySelector("main")!;
        var blocks = new List<string>();
        foreach (var element in main.QuerySelectorAll("h2, p, li"))
        {
            if (element.LocalName == "h2")
            {
                if (stopAt.Length > 0 && element.TextContent.Trim() == stopAt)
                {
                    break;
                }
                continue;
            }
            if (element.ClassList.Contains("no-print") || element.ClassList.Contains("note") || element.Closest("li") is { } li && li != element)
            {
                continue;
            }
            var line = element.TextContent.Trim();
            blocks.Add(Regex.IsMatch(line, "[.!?:]$") ? line : line + ".");
        }
        return string.Join(" ", blocks);
    }

    private static double FleschKincaidGrade(string text)
    {
        var sentences = Math.Max(1, SentenceEnd().Count(text + " "));
        var words = Word().Matches(text).Select(m => m.Value).ToList();
        var syllables = words.Sum(Syllables);
        return 0.39 * words.Count / sentences + 11.8 * syllables / words.Count - 15.59;
    }

    /// <summary>The usual English approximation: groups of vowels, less a silent final e or -es/-ed.</summary>
    private static int Syllables(string word)
    {
        var w = word.ToLowerInvariant();
        if (w.Any(char.IsDigit) || w.Length <= 3)
        {
            return 1;
        }
        w = SilentEnding().Replace(w, "");
        w = w.TrimStart('y');
        return Math.Max(1, Vowels().Count(w));
    }

    [GeneratedRegex(@"[.!?]+\s")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"[A-Za-z0-9][A-Za-z0-9'’-]*")]
    private static partial Regex Word();

    [GeneratedRegex("(?:[^laeiouy]es|[^aeiouytd]ed|[^laeiouy]e)$")]
    private static partial Regex SilentEnding();

    [GeneratedRegex("[aeiouy]+")]
    private static partial Regex Vowels();
}
