using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Realistic;

/// <summary>
/// Charts encoded the way Epic, Oracle Health, MEDITECH and converted C-CDA data really arrive (Realistic/Charts, one
/// JSON file each), run through both ways a service receives data: prefetch answered from the service's own discovery
/// templates, and no prefetch with the service fetching from a FHIR server. Each chart states the cards that
/// clinical-logic.md (with its "Decisions of 2026-11-28") requires, not what the code happened to give.
/// </summary>
public sealed class RealisticChartTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private static readonly string[] KnownRuleIds =
        ["smr-coapt-profile", "smr-gdmt-gap", "smr-outside-range", "smr-data-gaps", "smr-post-teer", "smr-order-teer", "smr-periop", "smr-acute-setting"];

    private static readonly string[] TextChecks = ["summaryContains", "summaryExcludes", "detailContains", "detailExcludes"];

    public static TheoryData<string, string> ChartsAndPaths()
    {
        var data = new TheoryData<string, string>();
        foreach (var chart in RealisticChart.Names())
        {
            data.Add(chart, "prefetch");
            data.Add(chart, "fetch");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ChartsAndPaths))]
    public async Task EachRealisticChartGivesTheCardsTheClinicalLogicRequires(string chart, string path)
    {
        var c = RealisticChart.Load(chart);
        await using var fhir = await FakeFhirServer.StartAsync();
        fhir.HonoursSearchParameters = true;
        fhir.HonoursInclude = c.ServerHonoursInclude;
        fhir.Add(c.Resources);

        var failures = new List<string>();
        foreach (var (hook, expected) in c.Expectations)
        {
            var serviceId = hook switch { "patient-view" => Requests.PatientViewId, "order-sign" => Requests.OrderSignId, _ => Requests.OrderSelectId };
            var prefetch = path == "prefetch" ? await PrefetchAsync(serviceId, c, fhir) : null;
            var before = fhir.Requests.Count;
            // An EHR sends fhirServer with its prefetch too; the service may still read references it could not resolve.
            var request = hook switch
            {
                "patient-view" => Requests.PatientView(c.PatientId, prefetch, fhir.BaseUrl),
                "order-sign" => Requests.OrderSign(c.PatientId, c.DraftOrders, prefetch, fhir.BaseUrl),
                _ => Requests.OrderSelect(c.PatientId, c.DraftOrders, c.Selections, prefetch, fhir.BaseUrl),
            };
            var response = await service.PostAsync(serviceId, request);
            if (response.Status != 200)
            {
                failures.Add($"{hook}: HTTP {response.Status}: {response.Body}");
                continue;
            }
            if (prefetch is not null)
            {
                var searches = fhir.Requests.Skip(before).Where(r => r.PathAndQuery.Contains('?', StringComparison.Ordinal)).Select(r => r.PathAndQuery).ToList();
                if (searches.Count > 0)
                {
                    failures.Add($"{hook}: searched the FHIR server although every template was prefetched: {string.Join(", ", searches)}");
                }
            }
            failures.AddRange(Compare(hook, expected, response));
        }
        Assert.True(failures.Count == 0, $"{c.Id} ({path}): {c.Why}\n" + string.Join("\n", failures));
    }

    [Fact]
    public void ThereAreAtLeastFortyRealisticChartsAndEachNamesTheShapeItFollows()
    {
        var names = RealisticChart.Names().ToList();
        Assert.True(names.Count >= 40, $"only {names.Count} charts");
        var problems = new List<string>();
        foreach (var name in names)
        {
            var c = RealisticChart.Load(name);
            var json = c.Json;
            void Require(bool condition, string problem)
            {
                if (!condition)
                {
                    problems.Add($"{name}: {problem}");
                }
            }
            Require(c.Id == name, "id differs from the file name");
            Require(!string.IsNullOrWhiteSpace((string?)json["title"]), "no title");
            Require(!string.IsNullOrWhiteSpace((string?)json["modelledOn"]), "no modelledOn");
            Require(c.Resources.Any(r => (string?)r["resourceType"] == "Patient" && (string?)r["id"] == c.PatientId), "no Patient resource for patientId");
            Require(c.Expectations.ContainsKey("patient-view"), "no patient-view expectation");
            Require((c.Expectations.ContainsKey("order-select") || c.Expectations.ContainsKey("order-sign")) == (c.DraftOrders.Count > 0),
                "orders and an order-select or order-sign expectation go together");
            var ids = c.Resources.Select(r => $"{(string?)r["resourceType"]}/{(string?)r["id"]}").ToList();
            Require(ids.Distinct().Count() == ids.Count, "two resources share a type and id");
            foreach (var resource in c.Resources.Where(r => r["subject"] is not null))
            {
                Require((string?)resource["subject"]!["reference"] == $"Patient/{c.PatientId}", $"{(string?)resource["id"]} belongs to another patient");
            }
            foreach (var (hook, expected) in c.Expectations)
            {
                var ruleIds = RuleIds(expected);
                Require(ruleIds.All(KnownRuleIds.Contains), $"{hook} names an unknown rule id");
                foreach (var (ruleId, checks) in expected["cards"] as JsonObject ?? [])
                {
                    Require(ruleIds.Contains(ruleId), $"{hook} checks text of {ruleId}, which it does not expect");
                    Require(checks is JsonObject o && o.All(kv => TextChecks.Contains(kv.Key)), $"{hook} {ruleId} has an unknown text check");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The prefetch an EHR honouring the discovery document would send: each template of the service, with its
    /// context tokens filled, asked of the FHIR server holding the chart (so both paths share one search).</summary>
    private async Task<JsonObject> PrefetchAsync(string serviceId, RealisticChart chart, FakeFhirServer fhir)
    {
        using var client = service.CreateSignedClient();
        var discovery = JsonNode.Parse(await client.GetStringAsync("/cds-services"))!;
        var templates = discovery["services"]!.AsArray().Single(s => (string?)s!["id"] == serviceId)!["prefetch"] as JsonObject ?? [];
        using var ehr = new HttpClient();
        var prefetch = new JsonObject();
        foreach (var (key, template) in templates)
        {
            var query = ((string?)template ?? "")
                .Replace("{{context.patientId}}", chart.PatientId, StringComparison.Ordinal)
                .Replace("{{context.userId}}", "Practitioner/example", StringComparison.Ordinal)
                .Replace("{{userPractitionerId}}", "example", StringComparison.Ordinal);
            Assert.DoesNotContain("{{", query, StringComparison.Ordinal);
            using var response = await ehr.GetAsync($"{fhir.BaseUrl}/{query}");
            // CDS Hooks: a key whose query found nothing is sent as null.
            prefetch[key] = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
        }
        return prefetch;
    }

    private static List<string> RuleIds(JsonObject expected) =>
        (expected["ruleIds"] as JsonArray ?? []).Select(r => (string)r!).ToList();

    private static IEnumerable<string> Compare(string hook, JsonObject expected, HookResponse response)
    {
        var want = RuleIds(expected).Order(StringComparer.Ordinal).ToList();
        var got = response.RuleIds.Order(StringComparer.Ordinal).ToList();
        if (!want.SequenceEqual(got))
        {
            var summaries = string.Join(" | ", response.Cards.Select(c => $"{(string?)c["source"]?["topic"]?["code"]}: {(string?)c["summary"]}"));
            yield return $"{hook}: expected [{string.Join(", ", want)}], got [{string.Join(", ", got)}] ({summaries})";
        }
        foreach (var (ruleId, checks) in expected["cards"] as JsonObject ?? [])
        {
            var card = response.Cards.FirstOrDefault(c => (string?)c["source"]?["topic"]?["code"] == ruleId);
            if (card is null)
            {
                continue;
            }
            foreach (var (check, values) in (JsonObject)checks!)
            {
                var field = check.StartsWith("summary", StringComparison.Ordinal) ? "summary" : "detail";
                // Detail is markdown: compare what a clinician reads once it is rendered (escapes gone).
                var text = field == "summary" ? (string?)card[field] ?? "" : CardText.Of((string?)card[field] ?? "");
                var contains = check.EndsWith("Contains", StringComparison.Ordinal);
                foreach (var value in (values as JsonArray ?? []).Select(v => (string)v!))
                {
                    // Exclusions ignore case: "Secondary" at a sentence start is still "secondary".
                    var found = text.Contains(value, contains ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
                    if (found != contains)
                    {
                        yield return $"{hook} {ruleId}: {field} {(contains ? "lacks" : "contains")} \"{value}\": {text}";
                    }
                }
            }
        }
    }
}

/// <summary>One chart file: the resources a FHIR server would hold, optional draft orders, and the expected cards per hook.</summary>
public sealed record RealisticChart(JsonObject Json)
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Realistic", "Charts");

    public static IEnumerable<string> Names() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    public static RealisticChart Load(string name) =>
        new(JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")))!.AsObject());

    public string Id => (string?)Json["id"] ?? "";

    public string PatientId => (string)Json["patientId"]!;

    public string Why => (string?)Json["why"] ?? "";

    public IReadOnlyList<JsonObject> Resources => Json["resources"]!.AsArray().Select(r => r!.AsObject()).ToList();

    public IReadOnlyList<JsonObject> DraftOrders => (Json["orders"]?["draftOrders"] as JsonArray ?? []).Select(r => r!.AsObject()).ToList();

    public IReadOnlyList<string> Selections => (Json["orders"]?["selections"] as JsonArray ?? []).Select(s => (string)s!).ToList();

    /// <summary>False for servers that accept _include of the medication but return no Medication (Epic, per public reports).</summary>
    public bool ServerHonoursInclude => (bool?)Json["fhirServer"]?["honoursInclude"] ?? true;

    public IReadOnlyDictionary<string, JsonObject> Expectations =>
        Json["expect"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.AsObject());
}
