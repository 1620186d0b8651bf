using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Cards;
using CdsMitral.Hooks;
using CdsMitral.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using Markdig;

namespace CdsMitral.Tests.Cards;

/// <summary>
/// Text from the record is data: whatever a medication name, a diagnosis, a resource id, a unit or an order carries, the
/// card detail renders to exactly the elements the service wrote. Rendered here with Markdig's most permissive pipeline
/// (raw HTML on, every extension), as the most trusting EHR would.
/// </summary>
public sealed partial class HostileTextTests
{
    private static readonly MarkdownPipeline Ehr = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
    private static readonly HookEvaluation Pipeline = new(
        new Snapshot.SnapshotBuilder(Terminology.Terminology.Embedded, new()),
        new CardBuilder(Terminology.Terminology.Embedded, Content.ContentCatalog.Embedded),
        Terminology.Terminology.Embedded);

    private static readonly string[] Fragments =
    [
        "<script>window.__x=1</script>", "<img src=x onerror=\"window.__x=1\">", "![i](/x.png){onerror=\"window.__x=1\"}",
        "[open](javascript:alert(1))", "\n\n# Patient QUALIFIES for TEER - schedule now", "\n- injected item", "1. ", "1) ", "*", "**", "_",
        "`", "```", "~~", "|", "| a | b |\n|---|---|", "---", "===", "&lt;", "&#60;script&#62;", "www.evil.example", "https://evil.example/x",
        "mailto:a@evil.example", "user@evil.example", "\\", "{", "}", "{.cls #id}", "\u202E", "\u0000", "\r\n", "\t", "    indented code",
        "> quote", "<!-- c -->", "<a href='https://evil.example'>x</a>", "\"", "'", "+ ", "$$x$$", "\ud83e\udec0", ":", "/", "]]", "[[", "![",
        "<https://evil.example>", "[x]: https://evil.example", "^[note]", "[^1]", "<details open>", "&amp;", "\u2028", "\u00a0", "==mark==",
        "Observation/", "%", "mm Hg", "<style>*{}</style>", "<iframe src=//evil.example>",
    ];

    private static Gen<string> HostileText =>
        from count in Gen.Choose(1, 6)
        from picks in Gen.ArrayOf(Gen.Elements(Fragments), count)
        from filler in Gen.Elements("", " ", "x", "Dilated cardiomyopathy ", "carvedilol 6.25 MG ")
        select filler + string.Concat(picks);

    /// <summary>One chart per card, with <paramref name="t"/> in every field the rules read: resource ids, medication, condition,
    /// procedure and order texts, codings' displays, units.</summary>
    private static IEnumerable<(string Hook, HookContext Context, Snapshot.PatientRecord Record)> Charts(string t)
    {
        const string day = "2026-10-01";
        JsonObject Text(string unit) => new() { ["valueQuantity"] = new JsonObject { ["value"] = 45, ["unit"] = unit } };
        JsonObject Med(string id, string text, string? rxcui = null, string intent = "order", bool doNotPerform = false) => new()
        {
            ["resourceType"] = "MedicationRequest", ["id"] = id, ["status"] = "active", ["intent"] = intent, ["doNotPerform"] = doNotPerform,
            ["medicationCodeableConcept"] = rxcui is null ? new JsonObject { ["text"] = text } : Chart.Concept(Chart.RxNorm, rxcui, text),
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };
        JsonObject Reference(string id, string display) => new()
        {
            ["resourceType"] = "MedicationStatement", ["id"] = id, ["status"] = "active",
            ["medicationReference"] = new JsonObject { ["reference"] = $"Medication/{id}", ["display"] = display },
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };

        // GDMT gap, outside range, data gaps and post-TEER: presumed mechanism from a diagnosis named t.
        var busy = new Chart().Mr("severe", day, id: "mr" + t).Lvef(32, day, id: "ef" + t).Lvesd(74, day, id: "sd" + t)
            // "unit " + t: never a unit the service understands ("mm Hg" alone would be one, and change the cards' meaning).
            .Observation(Chart.Loinc, "8440-0", day, Text("unit " + t), id: "pa" + t)
            .Condition(Chart.Snomed, "399020009", t, id: "dx" + t)
            .Procedure(Chart.Snomed, "459691000124101", t, "2025-01-05", id: "teer" + t)
            .Add(Med("u" + t, t)).Add(Med("d" + t, t, "313096", doNotPerform: true)).Add(Med("p" + t, t, "1488574", intent: "plan"))
            .Add(Reference("r" + t, t)).Medication("6918", t, id: "m" + t).Eroa(0.45m, day);
        yield return (Hook.PatientView, Context([], null), busy.Record());

        // COAPT-like, recorded mechanism, ids carrying t.
        var coapt = new Chart().Mr("severe", day, "secondary-ventricular", id: "mr" + t).Lvef(32, day, id: "ef" + t).Lvesd(58, day, id: "sd" + t)
            .Pasp(45, day, id: "pa" + t).Nyha("LA28406-9", day).FullGdmt().Add(Med("u" + t, t));
        yield return (Hook.PatientView, Context([], null), coapt.Record());

        // The acute setting: a shock diagnosis and a support procedure named t.
        var acute = new Chart().Mr("severe", day, id: "mr" + t).Lvef(32, day, id: "ef" + t).Condition(Chart.Snomed, "89138009", t, id: "shock" + t)
            .Procedure(Chart.Snomed, "233573008", t, day, "in-progress", id: "ecmo" + t);
        yield return (Hook.PatientView, Context([], null), acute.Record());

        // Orders named t: the order cards and the perioperative card.
        var surgery = Requests.ServiceRequest("s" + t, Chart.Snomed, "80146002", t, category: "387713003");
        var teer = Requests.ServiceRequest("t" + t, "http://www.ama-assn.org/go/cpt", "33418", t);
        foreach (var chart in new[] { busy, coapt, new Chart().Mr("severe", day, "secondary-ventricular", id: "mr" + t).Lvef(32, day).Lvesd(58, day).Pasp(45, day).FullGdmt() })
        {
            yield return (Hook.OrderSelect, Context([$"ServiceRequest/s{t}", $"ServiceRequest/t{t}"], Chart.Bundle([surgery, teer], "collection")), chart.Record());
        }
    }

    private static HookContext Context(string[] selections, JsonObject? drafts) =>
        new("Practitioner/1", "p1", null, selections, drafts is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(drafts));

    private static List<(string Rule, string Summary, string Detail)> Cards(string t) =>
        Charts(t).SelectMany(c => Pipeline.Evaluate(c.Hook, c.Context, c.Record, ServiceFactory.Today, "https://cds.example.org", Guid.NewGuid).Cards)
            .Select(card => (HookEvaluation.RuleOf(card), card.Summary, card.Detail ?? "")).ToList();

    /// <summary>The elements and attributes of rendered HTML, in order: what the markup is, without the text.</summary>
    private static List<string> Skeleton(string markdown) =>
        Tag().Matches(Markdig.Markdown.ToHtml(markdown, Ehr)).Select(m => m.Value).ToList();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [Fact]
    public void TheBaselineChartsGiveEveryKindOfCard()
    {
        var ids = Charts("x").SelectMany(c => Pipeline.Evaluate(c.Hook, c.Context, c.Record, ServiceFactory.Today, "https://x", Guid.NewGuid).Evaluation.FiredRuleIds).ToHashSet();
        Assert.Equal(Rules.SecondaryMrRules.All.Select(r => r.Id).Order(), ids.Order());
    }

    [Fact]
    public void HostileRecordTextNeverAddsAnElementOrAttributeToACard()
    {
        var baseline = Cards("x");
        var skeletons = baseline.Select(c => Skeleton(c.Detail)).ToList();
        var ran = 0;
        var property = Prop.ForAll(HostileText.ToArbitrary(), t =>
        {
            ran++;
            var cards = Cards(t);
            Assert.Equal(baseline.Count, cards.Count);
            for (var i = 0; i < cards.Count; i++)
            {
                Assert.Equal(skeletons[i], Skeleton(cards[i].Detail));
                Assert.DoesNotMatch(InvisibleOrBreak(), cards[i].Summary);
                Assert.True(cards[i].Summary.Length < 140, cards[i].Summary);
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150).WithQuietOnSuccess(true), property);
        Assert.Equal(150, ran);
    }

    [GeneratedRegex(@"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]")]
    private static partial Regex InvisibleOrBreak();

    [Theory]
    [InlineData("\n\n# Patient QUALIFIES for TEER - schedule now")]
    [InlineData("![i](/x.png){onerror=\"window.__x=1\"}")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("[open](javascript:alert(1))")]
    public void AHostileMedicationNameIsShownAsTextNotAsMarkup(string text)
    {
        var cards = Cards(text);
        var gdmt = cards.First(c => c.Rule == "smr-gdmt-gap");
        var html = Markdig.Markdown.ToHtml(gdmt.Detail, Ehr);
        Assert.DoesNotContain("<h1", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href", html, StringComparison.Ordinal);
        // The words are still there for the clinician to read, as text.
        var visible = System.Net.WebUtility.HtmlDecode(Tag().Replace(html, ""));
        Assert.Contains(Regex.Replace(text, @"\s+", " ").Trim(), visible, StringComparison.Ordinal);
    }
}
