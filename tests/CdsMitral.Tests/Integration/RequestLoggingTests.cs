using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>The request log, as an operator reads it from the process's stdout: one JSON line per request, with the
/// method, path, status and time, never the query string or a token; health probes below Information.</summary>
[Slow]
public sealed class RequestLoggingTests
{
    [Fact]
    public async Task EachRequestIsOneLineWithItsStatusAndTimeButNeitherItsQueryStringNorItsToken()
    {
        await using var service = await ServiceProcess.StartAsync(new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" });
        const string secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";
        using (var hook = new HttpRequestMessage(HttpMethod.Post, $"/cds-services/{Requests.PatientViewId}?code=launch-code-1234")
        {
            Content = new StringContent(Audit.AuditScenarios.CoaptRequest("p1").ToJsonString(), Encoding.UTF8, "application/json"),
        })
        {
            hook.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            (await service.Http.SendAsync(hook)).Dispose();
        }
        (await service.Http.GetAsync("/no-such-page")).Dispose();
        (await service.Http.GetAsync("/health/ready")).Dispose();

        JsonNode? RequestLine(string path) => service.Output.Select(l => l.StartsWith('{') ? JsonNode.Parse(l) : null)
            .LastOrDefault(j => (string?)j?["Properties"]?["RequestPath"] == path && j?["Properties"]?["StatusCode"] is not null);
        JsonNode? hookLine = null;
        for (var i = 0; i < 50 && (hookLine = RequestLine($"/cds-services/{Requests.PatientViewId}")) is null; i++)
        {
            await Task.Delay(100); // stdout arrives a moment after the answer
        }
        Assert.NotNull(hookLine);
        Assert.Equal("POST", (string?)hookLine["Properties"]!["RequestMethod"]);
        Assert.Equal(200, (int)hookLine["Properties"]!["StatusCode"]!);
        Assert.True((double)hookLine["Properties"]!["Elapsed"]! > 0);
        Assert.Equal("Information", (string?)hookLine["Level"]);
        Assert.StartsWith($"HTTP POST /cds-services/{Requests.PatientViewId} answered 200 in ", (string?)hookLine["RenderedMessage"], StringComparison.Ordinal);
        Assert.Equal(404, (int)RequestLine("/no-such-page")!["Properties"]!["StatusCode"]!);
        Assert.Null(RequestLine("/health/ready")); // Debug: below the level
        var log = string.Join("\n", service.Output);
        Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        Assert.DoesNotContain("launch-code-1234", log, StringComparison.Ordinal);
    }
}
