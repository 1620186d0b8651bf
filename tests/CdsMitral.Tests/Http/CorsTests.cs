using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

/// <summary>Which browser origins may call: in Development any loopback origin (a local Sandbox, on whatever port), and
/// elsewhere only the origins listed under CdsMitral:Callers:CorsOrigins.</summary>
public sealed class CorsTests
{
    public static TheoryData<string> LoopbackOrigins() => new()
    {
        "http://localhost:3000",
        "https://localhost:5173",
        "http://localhost",
        "http://127.0.0.1:8081",
        "http://[::1]:4000",
    };

    public static TheoryData<string> OtherOrigins() => new()
    {
        "http://localhost.evil.example:3000",
        "http://127.0.0.1.evil.example",
        "https://evil.example",
        "http://192.168.1.10:3000",
        "file://localhost",
        "null",
    };

    [Theory]
    [MemberData(nameof(LoopbackOrigins))]
    public async Task InDevelopmentAnyLoopbackOriginIsAllowedOnAnyPort(string origin)
    {
        await using var service = new ServiceFactory().InEnvironment("Development");
        Assert.Equal(origin, await AllowedOriginAsync(service, origin));
    }

    [Theory]
    [MemberData(nameof(OtherOrigins))]
    public async Task InDevelopmentAnOriginThatOnlyLooksLocalIsNotAllowed(string origin)
    {
        await using var service = new ServiceFactory().InEnvironment("Development");
        Assert.Null(await AllowedOriginAsync(service, origin));
    }

    [Fact]
    public async Task InDevelopmentTheListedSandboxOriginIsStillAllowed()
    {
        await using var service = new ServiceFactory().InEnvironment("Development");
        Assert.Equal("https://sandbox.cds-hooks.org", await AllowedOriginAsync(service, "https://sandbox.cds-hooks.org"));
    }

    [Theory]
    [MemberData(nameof(LoopbackOrigins))]
    public async Task InProductionALoopbackOriginIsAllowedOnlyWhenListed(string origin)
    {
        await using var unlisted = Production().With("CdsMitral:Callers:CorsOrigins:0", "https://sandbox.cds-hooks.org");
        Assert.Null(await AllowedOriginAsync(unlisted, origin));
        await using var listed = Production().With("CdsMitral:Callers:CorsOrigins:0", origin);
        Assert.Equal(origin, await AllowedOriginAsync(listed, origin));
    }

    [Fact]
    public async Task InDevelopmentALoopbackOriginSeesTheDiscoveryAnswerItself()
    {
        await using var service = new ServiceFactory().InEnvironment("Development");
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cds-services");
        request.Headers.Add("Origin", "http://localhost:3000");
        using var response = await client.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("http://localhost:3000", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    private static ServiceFactory Production() =>
        new ServiceFactory().InEnvironment("Production").With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(new byte[32]));

    /// <summary>The origin a preflight for a hook call is allowed for, or null when the answer allows none.</summary>
    private static async Task<string?> AllowedOriginAsync(ServiceFactory service, string origin)
    {
        using var client = service.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cds-services/secondary-mr-patient-view");
        preflight.Headers.TryAddWithoutValidation("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var response = await client.SendAsync(preflight);
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
    }
}
