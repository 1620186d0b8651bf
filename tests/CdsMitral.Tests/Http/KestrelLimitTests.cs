using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Http;

/// <summary>What only a real Kestrel does: cut a chunked body at MaxRequestBodySize, refuse a malformed request line,
/// a URI or headers too large. The in-memory test server does none of these.</summary>
public sealed class KestrelLimitTests
{
    private const string Path = "/cds-services/secondary-mr-patient-view";

    private static ServiceFactory OnKestrel(ServiceFactory factory)
    {
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    private static Uri Address(ServiceFactory factory) =>
        new(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    [Fact]
    public async Task AChunkedBodyOverTheLimitIsRefusedWith413AndLeavesAnAuditRecord()
    {
        await using var service = OnKestrel(new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:MaxRequestBodyBytes", "4096"));
        var request = Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded));
        request["extension"] = new JsonObject { ["org.example.padding"] = new string('x', 20000) };
        using var client = service.CreateSignedClient();
        // Chunked: no Content-Length for the handler to check first, so Kestrel's own limit cuts the read.
        client.DefaultRequestHeaders.TransferEncodingChunked = true;
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(request.ToJsonString())));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var answer = await client.PostAsync(Path, content);
        var response = await HookResponse.ReadAsync(answer);

        Assert.Equal(413, response.Status);
        Assert.Equal("OperationOutcome", (string?)response.Json["resourceType"]);
        var item = Assert.Single((await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray())!;
        Assert.Equal(413, (int)item["status"]!);
    }

    /// <summary>Sends raw bytes and reads the whole answer: HttpClient will not send a malformed request line.</summary>
    private static async Task<string> Raw(Uri server, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    [Fact]
    public async Task AMalformedChunkedBodyIsRefusedWith400AndLeavesAnAuditRecord()
    {
        await using var service = OnKestrel(new ServiceFactory().Audited(Store.Sqlite));
        var token = TestEhr.Default.Token($"{service.PublicBaseUrl}{Path}", issuedAt: service.Clock.GetUtcNow());
        var answer = await Raw(Address(service),
            $"POST {Path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n" +
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"hoo\r\nzz\r\n");

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("\"resourceType\":\"OperationOutcome\"", answer, StringComparison.Ordinal);
        var item = Assert.Single((await service.AuditApi("/audit/api/invocations"))["items"]!.AsArray())!;
        Assert.Equal(400, (int)item["status"]!);
    }

    /// <summary>Not a fix but a fact the docs rely on: Kestrel parses the request line and headers before any middleware
    /// exists for the request, and answers these itself with an empty body (not customisable, per the ASP.NET Core team:
    /// aspnet/KestrelHttpServer#2947). Should that change, this fails and the refusals can be given OperationOutcomes.</summary>
    [Theory]
    [InlineData("GET /cds-services HTTP/1.1 junk", "", 400)]
    [InlineData("GET /cds-services?{0} HTTP/1.1", "", 414)]
    [InlineData("GET /cds-services HTTP/1.1", "X-Big: {0}\r\n", 431)]
    public async Task KestrelAnswersAMalformedRequestLineAnOverlongUriAndOversizedHeadersBeforeAnyMiddlewareRuns(string line, string header, int status)
    {
        await using var service = OnKestrel(new ServiceFactory());
        var big = new string('a', 40000);
        var answer = await Raw(Address(service), $"{string.Format(line, big)}\r\nHost: localhost\r\n{string.Format(header, big)}\r\n");
        Assert.StartsWith($"HTTP/1.1 {status}", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Length: 0", answer, StringComparison.Ordinal);
    }
}
