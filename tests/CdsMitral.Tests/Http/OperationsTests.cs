using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>What operations teams rely on: an API document, and settings that are checked before the service serves.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task TheOpenApiDocumentDescribesTheHooksAndTheirWireTypes()
    {
        await using var service = new ServiceFactory();
        using var client = service.CreateClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var hook = document["paths"]!["/cds-services/{id}"]!["post"]!;
        Assert.Equal(["200", "400", "401", "403", "404", "412", "413", "415", "429", "503"], hook["responses"]!.AsObject().Select(r => r.Key));
        var request = hook["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.NotNull(request["properties"]!["context"]);
        Assert.NotNull(request["properties"]!["fhirAuthorization"]!["properties"]!["access_token"]);
        Assert.NotNull(document["components"]!["schemas"]!["Card"]!["properties"]!["selectionBehavior"]);
        Assert.NotNull(document["paths"]!["/cds-services/{id}/feedback"]);
    }

    [Fact]
    public async Task TheRealProcessRefusesToStartWithSentencesNotAStackTrace()
    {
        var (exitCode, error) = await ServiceProcess.FailToStartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Trust__Mode"] = "Off", // outside Development
            ["CdsMitral__Audit__Store"] = "None",
        });
        Assert.Equal(1, exitCode);
        Assert.Contains("CdsMitral cannot start: its settings are not valid.", error, StringComparison.Ordinal);
        Assert.Contains("allowed only in the Development environment", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CdsMitral:HookDeadline", "00:10:00", "HookDeadline")]
    [InlineData("CdsMitral:FhirMaxPages", "0", "FhirMaxPages")]
    [InlineData("CdsMitral:StaleAfterMonths", "-1", "StaleAfterMonths")]
    [InlineData("CdsMitral:PublicBaseUrl", "not a url", "PublicBaseUrl")]
    [InlineData("CdsMitral:Trust:ClockSkew", "01:00:00", "ClockSkew must be between 0 and 5 minutes")]
    [InlineData("CdsMitral:Trust:Clients:1:JwksFile", "/nowhere/keys.json", "JwksFile '/nowhere/keys.json' does not exist")]
    [InlineData("CdsMitral:Audit:MaxBatch", "0", "MaxBatch must be between 1 and 10000")]
    [InlineData("CdsMitral:Audit:Auditors:0:PasswordHash", "plaintext", "needs a User and a PasswordHash")]
    [InlineData("CdsMitral:Rules:Modes:smr-coapt", "silent", "Modes:smr-coapt names no rule of this service")]
    [InlineData("CdsMitral:Rules:Modes:smr-coapt-profile@2.1", "silent", "names no rule of this service")]
    [InlineData("CdsMitral:Rules:Modes:smr-coapt-profile", "loud", "is 'loud'; use live, silent or off")]
    public async Task AWrongSettingStopsTheServiceWithASentenceSayingWhichAndWhy(string key, string value, string expected)
    {
        await using var service = new ServiceFactory().With(key, value)
            .With("CdsMitral:Trust:Clients:1:Issuer", key.Contains("Clients:1", StringComparison.Ordinal) ? "https://x.example" : null)
            .With("CdsMitral:Audit:Auditors:0:User", key.Contains("Auditors", StringComparison.Ordinal) ? "jane" : null);
        if (!key.Contains("Clients:1", StringComparison.Ordinal))
        {
            service.Without("CdsMitral:Trust:Clients:1");
        }
        if (!key.Contains("Auditors", StringComparison.Ordinal))
        {
            service.Without("CdsMitral:Audit:Auditors");
        }
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        var message = error is Microsoft.Extensions.Options.OptionsValidationException o ? string.Join(" ", o.Failures) : error.ToString();
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", message, StringComparison.Ordinal);
    }
}
