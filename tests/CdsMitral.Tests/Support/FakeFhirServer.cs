using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Support;

/// <summary>What the fake answers to one request. Body null means no body.</summary>
public sealed record FakeReply(int Status = 200, string? Body = null, TimeSpan Delay = default, string ContentType = "application/fhir+json",
    IReadOnlyDictionary<string, string>? Headers = null, bool Abort = false, TimeSpan DripInterval = default, byte[]? RawBody = null);

/// <param name="Body">What a POST or PUT carried (a write-back transaction); null for reads.</param>
public sealed record SeenRequest(string Method, string PathAndQuery, string? Authorization, DateTimeOffset At, string? Body = null, string? TraceParent = null);

/// <summary>
/// A real FHIR-ish HTTP server on loopback Kestrel, standing in where WireMock.Net cannot be had.
/// By default it answers searches from the resources it holds (filtered by resource type and patient, never sorted,
/// no paging); a test can replace any answer with a status, a delay, a malformed body, headers or a dropped connection.
/// </summary>
public sealed class FakeFhirServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private readonly List<JsonObject> _resources = [];
    private int _inFlight;
    private int _maxInFlight;

    public FakeFhirServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(Handle);
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>Per request: return a reply to override the default answer, or null to let the default answer.</summary>
    public Func<HttpRequest, int, FakeReply?> Responder { get; set; } = (_, _) => null;

    /// <summary>A fixed latency on every answer (the "50 ms FHIR server").</summary>
    public TimeSpan Latency { get; set; }

    public IReadOnlyList<SeenRequest> Requests => _seen.ToList();

    /// <summary>When set, served at <c>{BaseUrl}/.well-known/smart-configuration</c> (SMART App Launch discovery).</summary>
    public JsonObject? SmartConfiguration { get; set; }

    public int MaxConcurrentRequests => _maxInFlight;

    public static async Task<FakeFhirServer> StartAsync()
    {
        var server = new FakeFhirServer();
        await server._app.StartAsync();
        server.BaseUrl = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/fhir";
        return server;
    }

    public FakeFhirServer Add(IEnumerable<JsonObject> resources)
    {
        lock (_resources)
        {
            _resources.AddRange(resources);
        }
        return this;
    }

    private async Task Handle(HttpContext http)
    {
        var current = Interlocked.Increment(ref _inFlight);
        InterlockedMax(ref _maxInFlight, current);
        try
        {
            if (MangleDoubleSlashesInQuery && http.Request.QueryString.Value is { } raw && raw.Contains("//", StringComparison.Ordinal))
            {
                // What the SMART launcher's proxy does to a query it passes on: "http://loinc.org" arrives as "http:/loinc.org".
                http.Request.QueryString = new QueryString(raw.Replace("//", "/", StringComparison.Ordinal));
            }
            var count = _seen.Count(r => r.PathAndQuery == http.Request.Path + http.Request.QueryString);
            string? body = null;
            if (http.Request.Method is "POST" or "PUT")
            {
                http.Request.EnableBuffering();
                using var reader = new StreamReader(http.Request.Body, Encoding.UTF8, leaveOpen: true);
                body = await reader.ReadToEndAsync(http.RequestAborted);
                http.Request.Body.Position = 0;
            }
            _seen.Enqueue(new SeenRequest(http.Request.Method, http.Request.Path + http.Request.QueryString, http.Request.Headers.Authorization.FirstOrDefault(), DateTimeOffset.UtcNow, body,
                http.Request.Headers["traceparent"].FirstOrDefault()));
            var reply = Responder(http.Request, count)
                        ?? (SmartConfiguration is { } smart && http.Request.Path.Value!.EndsWith("/.well-known/smart-configuration", StringComparison.Ordinal)
                            ? new FakeReply(200, smart.ToJsonString(), ContentType: "application/json")
                            : DefaultReply(http.Request));
            var delay = Latency + reply.Delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, http.RequestAborted);
            }
            if (reply.Abort)
            {
                http.Abort();
                return;
            }
            http.Response.StatusCode = reply.Status;
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
            {
                http.Response.Headers[name] = value;
            }
            if (reply.Body is null && reply.RawBody is null)
            {
                return;
            }
            http.Response.ContentType = reply.ContentType;
            var bytes = reply.RawBody ?? Encoding.UTF8.GetBytes(reply.Body!);
            if (reply.DripInterval > TimeSpan.Zero)
            {
                foreach (var b in bytes)
                {
                    await http.Response.Body.WriteAsync(new[] { b }, http.RequestAborted);
                    await http.Response.Body.FlushAsync(http.RequestAborted);
                    await Task.Delay(reply.DripInterval, http.RequestAborted);
                }
                return;
            }
            await http.Response.Body.WriteAsync(bytes, http.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The service gave up on this request (its deadline): nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>A server with default behaviour: reads by id, searches by type and patient; no sort, no paging.</summary>
    private FakeReply DefaultReply(HttpRequest request)
    {
        var segments = request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        List<JsonObject> all;
        lock (_resources)
        {
            all = _resources.ToList();
        }
        if (segments.Length == 2)
        {
            var match = all.FirstOrDefault(r => (string?)r["resourceType"] == segments[0] && (string?)r["id"] == segments[1]);
            return match is null ? new FakeReply(404, OperationOutcome("not-found")) : new FakeReply(200, match.ToJsonString());
        }
        if (HonoursSearchParameters)
        {
            return new FakeReply(200, Search(segments[0], request.Query, all));
        }
        var patient = request.Query["patient"].FirstOrDefault();
        var hits = all.Where(r => (string?)r["resourceType"] == segments[0]
                                  && (patient is null || (string?)r["subject"]?["reference"] == $"Patient/{patient}"))
            .ToList();
        return new FakeReply(200, SearchSet(hits));
    }

    /// <summary>Answer searches as an EHR's FHIR server would: token parameters filter, <c>_include</c> of the
    /// medication adds the referenced Medication as <c>search.mode</c> include. Off by default, so that tests which
    /// rely on "every resource of the type" keep working.</summary>
    public bool HonoursSearchParameters { get; set; }

    /// <summary>Behave like a proxy that collapses "//" in query strings (smart-launcher-v2's, seen 2026-12-07): an unencoded
    /// system URL in a token search then matches nothing.</summary>
    public bool MangleDoubleSlashesInQuery { get; set; }

    /// <summary>Some servers (Epic, by public reports) accept <c>_include=MedicationRequest:medication</c> and return
    /// no Medication: the client must read each one itself.</summary>
    public bool HonoursInclude { get; set; } = true;

    private string Search(string type, IQueryCollection query, List<JsonObject> all)
    {
        IEnumerable<JsonObject> hits = all.Where(r => (string?)r["resourceType"] == type);
        var includes = new List<string>();
        foreach (var (name, values) in query)
        {
            // Repeated parameters AND together; commas inside one value OR together.
            foreach (var value in values.OfType<string>())
            {
                var any = value.Split(',');
                hits = name switch
                {
                    "patient" or "subject" => hits.Where(r => any.Any(v => IsPatient(r, v))),
                    "_id" => hits.Where(r => any.Contains((string?)r["id"])),
                    "code" => hits.Where(r => any.Any(t => HasToken(r["code"], t))),
                    "component-code" => hits.Where(r => any.Any(t => Components(r).Any(c => HasToken(c["code"], t)))),
                    "combo-code" => hits.Where(r => any.Any(t => HasToken(r["code"], t) || Components(r).Any(c => HasToken(c["code"], t)))),
                    "category" => hits.Where(r => any.Any(t => r["category"] is JsonArray cats ? cats.Any(c => HasToken(c, t)) : HasToken(r["category"], t))),
                    "clinical-status" => hits.Where(r => any.Any(t => HasToken(r["clinicalStatus"], t))),
                    "verification-status" => hits.Where(r => any.Any(t => HasToken(r["verificationStatus"], t))),
                    "status" => hits.Where(r => any.Contains((string?)r["status"])),
                    "intent" => hits.Where(r => any.Contains((string?)r["intent"])),
                    "_include" => Remember(hits, includes, value),
                    // _sort, _count, date and anything else: answered as a superset, unsorted, as a lenient server does.
                    _ => hits,
                };
            }
        }
        var matches = hits.ToList();
        var entries = matches.Select(r => Entry(r, "match")).ToList();
        if (HonoursInclude && includes.Any(i => i.EndsWith(":medication", StringComparison.Ordinal) || i.EndsWith(":medication:Medication", StringComparison.Ordinal)))
        {
            var seen = new HashSet<string>();
            foreach (var r in matches)
            {
                var reference = (string?)r["medicationReference"]?["reference"];
                var id = reference is not null && reference.Contains("Medication/", StringComparison.Ordinal) ? reference[(reference.LastIndexOf("Medication/", StringComparison.Ordinal) + 11)..] : null;
                var medication = id is null ? null : all.FirstOrDefault(m => (string?)m["resourceType"] == "Medication" && (string?)m["id"] == id);
                if (medication is not null && seen.Add(id!))
                {
                    entries.Add(Entry(medication, "include"));
                }
            }
        }
        return new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["type"] = "searchset",
            ["total"] = matches.Count,
            ["link"] = new JsonArray(new JsonObject { ["relation"] = "self", ["url"] = $"{BaseUrl}/{type}" }),
            ["entry"] = new JsonArray(entries.ToArray()),
        }.ToJsonString();

        JsonNode Entry(JsonObject resource, string mode) => new JsonObject
        {
            ["fullUrl"] = $"{BaseUrl}/{(string?)resource["resourceType"]}/{(string?)resource["id"]}",
            ["resource"] = resource.DeepClone(),
            ["search"] = new JsonObject { ["mode"] = mode },
        };
    }

    private static IEnumerable<JsonObject> Remember(IEnumerable<JsonObject> hits, List<string> includes, string value)
    {
        includes.Add(value);
        return hits;
    }

    private static bool IsPatient(JsonObject resource, string value)
    {
        var reference = (string?)resource["subject"]?["reference"] ?? (string?)resource["patient"]?["reference"];
        return reference == value || reference == $"Patient/{value}";
    }

    private static IEnumerable<JsonNode> Components(JsonObject resource) =>
        resource["component"] is JsonArray components ? components.OfType<JsonNode>() : [];

    /// <summary>FHIR token matching: <c>system|code</c>, <c>|code</c> (no system), <c>code</c> (any system), <c>system|</c>.</summary>
    private static bool HasToken(JsonNode? concept, string token)
    {
        var bar = token.IndexOf('|', StringComparison.Ordinal);
        var (system, code) = bar < 0 ? ((string?)null, token) : (token[..bar], token[(bar + 1)..]);
        return concept?["coding"] is JsonArray codings && codings.OfType<JsonNode>().Any(c =>
            (code.Length == 0 || (string?)c["code"] == code)
            && (system is null || (system.Length == 0 ? c["system"] is null : (string?)c["system"] == system)));
    }

    public static string SearchSet(IEnumerable<JsonNode> resources, int? total = null, string? next = null)
    {
        var list = resources.ToList();
        var bundle = new JsonObject
        {
            ["resourceType"] = "Bundle",
            ["type"] = "searchset",
            ["total"] = total ?? list.Count,
            ["entry"] = new JsonArray(list.Select(r => (JsonNode)new JsonObject { ["resource"] = r.DeepClone() }).ToArray()),
        };
        if (next is not null)
        {
            bundle["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = next });
        }
        return bundle.ToJsonString();
    }

    public static string OperationOutcome(string code) =>
        $$"""{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"{{code}}","diagnostics":"fake server says {{code}}"}]}""";

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
