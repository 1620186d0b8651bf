using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

public sealed partial class DiscoveryTests(ServiceFactory service) : IClassFixture<ServiceFactory>
{
    private async Task<JsonNode> Discover()
    {
        using var client = service.CreateSignedClient();
        using var response = await client.GetAsync("/cds-services");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task DiscoveryListsThePatientViewOrderSelectAndOrderSignServices()
    {
        var services = (await Discover())["services"]!.AsArray();
        Assert.Equal(3, services.Count);
        Assert.Contains(services, s => (string?)s!["id"] == "secondary-mr-patient-view" && (string?)s["hook"] == "patient-view");
        Assert.Contains(services, s => (string?)s!["id"] == "secondary-mr-order-select" && (string?)s["hook"] == "order-select");
        Assert.Contains(services, s => (string?)s!["id"] == "secondary-mr-order-sign" && (string?)s["hook"] == "order-sign");
        foreach (var s in services)
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)s!["title"]));
            Assert.False(string.IsNullOrWhiteSpace((string?)s["description"]));
            Assert.False(string.IsNullOrWhiteSpace((string?)s["usageRequirements"]));
        }
    }

    [Fact]
    public async Task DiscoveryAsksForEveryKindOfDataTheRulesRead()
    {
        var prefetch = (await Discover())["services"]![0]!["prefetch"]!.AsObject();
        var resourceTypes = prefetch.Select(p => ((string)p.Value!).Split('?', '/')[0]).ToHashSet();
        Assert.Equal(["Condition", "MedicationRequest", "MedicationStatement", "Observation", "Patient", "Procedure"], resourceTypes.Order());
    }

    [GeneratedRegex(@"\{\{([^}]*)\}\}")]
    private static partial Regex Token();

    [GeneratedRegex(@"^[A-Za-z]+(/\{\{context\.patientId\}\}|\?.+)$")]
    private static partial Regex ReadOrSearch();

    [Fact]
    public async Task PrefetchTemplatesUseOnlySpecTokensAndTheRecommendedQuerySubset()
    {
        var allowedTokens = new[] { "context.patientId", "context.userId", "context.encounterId", "userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId" };
        // The recommended subset (resource references, token equality, _sort, _count), and _include of the medication a
        // request or statement references: outside the subset, needed by decision 3, harmless when a client ignores it.
        var allowedParameters = new[] { "patient", "code", "component-code", "status", "_sort", "_count", "_include" };
        foreach (var service in (await Discover())["services"]!.AsArray())
        {
            foreach (var (key, value) in service!["prefetch"]!.AsObject())
            {
                var template = (string)value!;
                Assert.Matches(ReadOrSearch(), template);
                Assert.All(Token().Matches(template), m => Assert.Contains(m.Groups[1].Value, allowedTokens));
                Assert.DoesNotContain("sort:desc", template, StringComparison.Ordinal);
                if (template.Contains('?', StringComparison.Ordinal))
                {
                    var parameters = template.Split('?')[1].Split('&').Select(p => p.Split('=')[0]);
                    Assert.All(parameters, p => Assert.Contains(p, allowedParameters));
                    Assert.Contains("patient={{context.patientId}}", template, StringComparison.Ordinal);
                }
                Assert.False(string.IsNullOrEmpty(key));
            }
        }
    }
}
