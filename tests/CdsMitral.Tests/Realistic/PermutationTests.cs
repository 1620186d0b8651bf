using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Cards;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Realistic;

/// <summary>
/// Decision 14 of 2026-12-07: the answer never depends on the order of resources. Every realistic chart, on every hook it
/// states, is run through the pure pipeline in its own order, reversed and in twelve seeded shuffles; the cards (every
/// member but the uuids) and the audit's rule outcomes must be the same each time. A chart in which two resources can
/// trade places and change a word fails here.
/// </summary>
public sealed class PermutationTests
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;
    private static readonly HookEvaluation Pipeline =
        new(new SnapshotBuilder(T, new ClinicalOptions()), new CardBuilder(T, Content.ContentCatalog.Embedded), T);

    public static TheoryData<string> Charts() => [.. RealisticChart.Names()];

    [Theory]
    [MemberData(nameof(Charts))]
    public void AnyOrderOfAChartsResourcesGivesTheSameCards(string name)
    {
        var chart = RealisticChart.Load(name);
        var resources = chart.Resources.Select(r => RawResource.From(JsonSerializer.SerializeToElement(r))!.Value).ToList();
        var drafts = JsonSerializer.SerializeToElement(Chart.Bundle(chart.DraftOrders, "collection"));
        foreach (var hook in chart.Expectations.Keys)
        {
            var context = new HookContext("Practitioner/example", chart.PatientId, null,
                hook == Hook.OrderSelect ? chart.Selections : [], chart.DraftOrders.Count > 0 ? drafts : null);
            var expected = Answer(hook, context, resources);
            var random = new Random(20261207);
            var orders = new List<List<RawResource>> { Enumerable.Reverse(resources).ToList() };
            for (var i = 0; i < 12; i++)
            {
                orders.Add([.. resources.OrderBy(_ => random.Next())]);
            }
            foreach (var order in orders)
            {
                Assert.Equal(expected, Answer(hook, context, order));
            }
        }
    }

    /// <summary>The cards and rule outcomes as JSON, uuids left out (they differ on every call by design).</summary>
    private static string Answer(string hook, HookContext context, List<RawResource> resources)
    {
        var outcome = Pipeline.Evaluate(hook, context, new PatientRecord(context.PatientId, resources, [], []), ServiceFactory.Today,
            "https://cds.example.org", Guid.NewGuid);
        var cards = JsonNode.Parse(JsonSerializer.Serialize(new CdsResponse(outcome.Cards), HookJson.Default.CdsResponse))!;
        foreach (var card in cards["cards"]!.AsArray())
        {
            card!.AsObject().Remove("uuid");
            foreach (var suggestion in card["suggestions"]?.AsArray() ?? [])
            {
                suggestion!.AsObject().Remove("uuid");
            }
            foreach (var link in card["links"]?.AsArray() ?? [])
            {
                link!.AsObject().Remove("appContext");
            }
        }
        var outcomes = string.Join("\n", outcome.Evaluation.Outcomes.Select(o =>
            $"{o.RuleId} {o.Fired} {o.Reason} {o.Fingerprint} {string.Join("; ", (o.Criteria ?? []).Select(c => $"{c.Name}={c.Verdict}:{c.Reason}"))}"));
        return $"{cards.ToJsonString()}\n{outcomes}";
    }
}
