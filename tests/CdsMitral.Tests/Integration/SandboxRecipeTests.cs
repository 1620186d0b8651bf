using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>docs/integration.md's recipe for the CDS Hooks Sandbox with JWT verification, read from the page and run:
/// a service started with exactly its settings, outside Development, takes a token signed as the Sandbox signs them.</summary>
[Slow]
public sealed partial class SandboxRecipeTests
{
    [GeneratedRegex(@"^(CdsMitral__\w+)=(.*?)\s*\\?$", RegexOptions.Multiline)]
    private static partial Regex Setting();

    [GeneratedRegex(@"--environment (\w+)")]
    private static partial Regex Environment();

    private static (Dictionary<string, string> Settings, string Environment) Recipe()
    {
        var page = File.ReadAllText(Repo.PathOf("docs", "integration.md"));
        var start = page.IndexOf("<!-- sandbox-jwt-recipe -->", StringComparison.Ordinal);
        Assert.True(start >= 0, "the recipe's marker is gone from docs/integration.md");
        var block = page[page.IndexOf("```sh", start, StringComparison.Ordinal)..];
        block = block[..block.IndexOf("```", 5, StringComparison.Ordinal)];
        var settings = Setting().Matches(block).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"') switch
        {
            "$(openssl rand -base64 32)" => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            var value => value,
        });
        return (settings, Environment().Match(block).Groups[1].Value);
    }

    [Fact]
    public async Task TheSandboxJwtRecipeInTheDocsStartsAServiceThatTakesTheSandboxsToken()
    {
        var (settings, environment) = Recipe();
        Assert.Equal("Production", environment);
        Assert.Contains("CdsMitral__PublicBaseUrl", settings.Keys);
        await using var service = await ServiceProcess.StartAsync(settings, environment);

        var path = $"/cds-services/{Requests.PatientViewId}";
        var chart = new Chart("smart-1288992").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01")
            .Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var body = Requests.PatientView("smart-1288992", chart.Prefetch(Terminology.Terminology.Embedded));
        body["fhirServer"] = settings["CdsMitral__Trust__Clients__0__FhirServers__0"];
        HttpRequestMessage Call(string? token)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Add("Origin", settings["CdsMitral__Callers__CorsOrigins__0"]);
            if (token is not null)
            {
                request.Headers.Authorization = new("Bearer", token);
            }
            return request;
        }

        // The Sandbox names the URL it calls as aud: PublicBaseUrl and the path, whatever port the process was given.
        using var signed = await service.Http.SendAsync(Call(SandboxIdentity.Jwt(settings["CdsMitral__PublicBaseUrl"] + path, DateTimeOffset.UtcNow)));
        var answer = await signed.Content.ReadAsStringAsync();
        Assert.True(signed.StatusCode == HttpStatusCode.OK, answer);
        Assert.Equal("smr-coapt-profile", (string?)JsonNode.Parse(answer)!["cards"]![0]!["source"]!["topic"]!["code"]);
        Assert.Equal(SandboxIdentity.Issuer, signed.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var unsigned = await service.Http.SendAsync(Call(null));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
    }
}
