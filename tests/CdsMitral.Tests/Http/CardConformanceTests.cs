using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Every card type, as an EHR receives it, checked against CDS Hooks 2.0 §Card and the response invariants.</summary>
public sealed class CardConformanceTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;

    /// <summary>Requests that together fire all seven rules.</summary>
    public static TheoryData<string, string> Scenarios() => new()
    {
        { "coapt+gdmt", "smr-coapt-profile,smr-gdmt-gap" },
        { "outside+gaps", "smr-outside-range,smr-data-gaps" },
        { "post-teer", "smr-post-teer" },
        { "order-teer", "smr-order-teer" },
        { "order-teer-gdmt", "smr-gdmt-gap,smr-data-gaps" },
        { "periop", "smr-periop" },
    };

    private static (string Service, JsonObject Request) Build(string scenario)
    {
        var severe = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular");
        return scenario switch
        {
            "coapt+gdmt" => (Requests.PatientViewId, Requests.PatientView("p1", new Chart().Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").Prefetch(T))),
            "outside+gaps" => (Requests.PatientViewId, Requests.PatientView("p1", severe.Lvesd(74, "2026-10-01").Lvef(30, "2024-01-01").FullGdmt().Prefetch(T))),
            "post-teer" => (Requests.PatientViewId, Requests.PatientView("p1", new Chart().PriorTeer("2025-06-01").Lvef(35, "2026-10-01").Prefetch(T))),
            "order-teer" => (Requests.OrderSelectId, Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], severe.Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(T))),
            "order-teer-gdmt" => (Requests.OrderSelectId, Requests.OrderSelect("p1", [Requests.TeerOrder()], ["ServiceRequest/teer-1"], severe.Lvef(32, "2026-10-01").Prefetch(T))),
            _ => (Requests.OrderSelectId, Requests.OrderSelect("p1", [Requests.SurgeryOrder()], ["ServiceRequest/surg-1"], severe.Lvef(32, "2026-10-01").Prefetch(T))),
        };
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task CardsFollowTheSpecToTheLetter(string scenario, string expectedRules)
    {
        var (serviceId, request) = Build(scenario);
        var response = await service.PostAsync(serviceId, request);
        Assert.Equal(200, response.Status);
        Assert.Equal(expectedRules.Split(','), response.RuleIds);
        AssertNoEmptyOrNullValues(response.Json, "$");
        var uuids = new HashSet<string>();
        foreach (var card in response.Cards)
        {
            Assert.True(Guid.TryParse((string?)card["uuid"], out _));
            Assert.True(uuids.Add((string)card["uuid"]!));
            var summary = (string)card["summary"]!;
            Assert.InRange(summary.Length, 1, 139);
            Assert.DoesNotContain("eligible", summary, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("qualif", summary, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("!", summary, StringComparison.Ordinal);
            Assert.Contains((string?)card["indicator"], new[] { "info", "warning", "critical" });
            Assert.StartsWith("CdsMitral secondary-MR rules ", (string)card["source"]!["label"]!, StringComparison.Ordinal);
            Assert.StartsWith("https://cds.example.org/content/", (string)card["source"]!["url"]!, StringComparison.Ordinal);
            Assert.Equal("https://fhir.cdsmitral.org/CodeSystem/rule", (string?)card["source"]!["topic"]!["system"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)card["detail"]));
            foreach (var reason in card["overrideReasons"]!.AsArray())
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)reason!["code"]));
                Assert.False(string.IsNullOrWhiteSpace((string?)reason["system"]));
                Assert.False(string.IsNullOrWhiteSpace((string?)reason["display"]));
            }
            var rule = (string)card["source"]!["topic"]!["code"]!;
            var offersNavigator = rule is "smr-coapt-profile" or "smr-gdmt-gap" or "smr-outside-range" or "smr-data-gaps";
            foreach (var link in card["links"]!.AsArray())
            {
                Assert.True(Uri.IsWellFormedUriString((string?)link!["url"], UriKind.Absolute));
                Assert.False(string.IsNullOrWhiteSpace((string?)link["label"]));
                if ((string?)link["type"] == "smart")
                {
                    // A SMART link launches the Navigator and tells it, in appContext, which card (and hook) opened it.
                    Assert.True(offersNavigator, $"{rule} offers the Navigator");
                    Assert.Equal("https://cds.example.org/navigator/launch", (string?)link["url"]);
                    Assert.Equal("Open the Secondary MR Navigator", (string?)link["label"]);
                    var context = JsonNode.Parse((string)link["appContext"]!)!;
                    Assert.Equal((string)card["uuid"]!, (string?)context["card"]);
                    Assert.Equal(rule, (string?)context["rule"]);
                    Assert.Equal(serviceId.Contains("patient-view", StringComparison.Ordinal) ? "patient-view" : "order-select", (string?)context["hook"]);
                }
                else
                {
                    Assert.Equal("absolute", (string?)link["type"]);
                    Assert.Null(link["appContext"]);
                }
            }
            Assert.Equal(offersNavigator ? 1 : 0, card["links"]!.AsArray().Count(l => (string?)l!["type"] == "smart"));
            if (card["suggestions"] is JsonArray suggestions)
            {
                Assert.Contains((string?)card["selectionBehavior"], new[] { "at-most-one", "any" });
                foreach (var suggestion in suggestions)
                {
                    Assert.True(Guid.TryParse((string?)suggestion!["uuid"], out _));
                    Assert.True(uuids.Add((string)suggestion["uuid"]!));
                    foreach (var action in suggestion["actions"]!.AsArray())
                    {
                        Assert.Equal("create", (string?)action!["type"]);
                        Assert.False(string.IsNullOrWhiteSpace((string?)action["description"]));
                        Assert.Equal("ServiceRequest", (string?)action["resource"]!["resourceType"]);
                        Assert.Equal("draft", (string?)action["resource"]!["status"]);
                        Assert.Equal("Patient/p1", (string?)action["resource"]!["subject"]!["reference"]);
                    }
                }
            }
            else
            {
                Assert.Null(card["selectionBehavior"]);
            }
        }
    }

    /// <summary>CDS Hooks 2.0: optional members without a value are omitted — never null, "", [] or {}.</summary>
    private static void AssertNoEmptyOrNullValues(JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                Assert.Fail($"{path} is null");
                break;
            case JsonObject o:
                Assert.True(o.Count > 0, $"{path} is an empty object");
                foreach (var (k, v) in o)
                {
                    AssertNoEmptyOrNullValues(v, $"{path}.{k}");
                }
                break;
            case JsonArray a:
                Assert.True(a.Count > 0 || path == "$.cards", $"{path} is an empty array");
                for (var i = 0; i < a.Count; i++)
                {
                    AssertNoEmptyOrNullValues(a[i], $"{path}[{i}]");
                }
                break;
            case JsonValue v when v.TryGetValue<string>(out var s):
                Assert.True(s.Length > 0, $"{path} is an empty string");
                break;
        }
    }

    [Fact]
    public async Task CardLinksPointAtPagesTheServiceReallyServes()
    {
        var (serviceId, request) = Build("coapt+gdmt");
        using var local = new ServiceFactory().With("CdsMitral:PublicBaseUrl", "http://localhost");
        var response = await local.PostAsync(serviceId, request);
        using var client = local.CreateClient();
        // The smart link is launched by the EHR with iss and launch, not fetched: Navigator/ tests cover it.
        var absolute = response.Cards.SelectMany(c => c["links"]!.AsArray()).Where(l => (string?)l!["type"] == "absolute");
        foreach (var url in absolute.Select(l => (string)l!["url"]!).Distinct())
        {
            using var page = await client.GetAsync(new Uri(url).PathAndQuery);
            Assert.Equal(200, (int)page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }
    }
}
