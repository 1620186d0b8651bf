using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Support;

/// <summary>The service in-process, as an EHR sees it over HTTP. Only the clock is swapped: the date is fixed
/// (so "current" and "stale" do not drift), while time still passes for deadlines and retries.</summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    public ServiceFactory()
        : this(Today)
    {
    }

    private ServiceFactory(DateTimeOffset today)
    {
        Clock = new FixedDateTimeProvider(today);
        // Each service under test keeps its own audit trail: parallel test classes never share a file.
        Directory.CreateDirectory(DataDirectory);
        _settings["CdsMitral:Audit:ConnectionString"] = Path.Combine(DataDirectory, "audit.db");
        _settings["CdsMitral:Audit:SpoolPath"] = Path.Combine(DataDirectory, "spool.ndjson");
    }

    /// <summary>Where this instance's audit database and spool live (deleted with the factory).</summary>
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", Guid.NewGuid().ToString("N"));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a straggling connection: the temp folder is cleaned by the OS.
        }
    }

    /// <summary>A service whose clock reads <paramref name="today"/> (time still passes from there).</summary>
    public static ServiceFactory At(DateTimeOffset today) => new(today);

    public static readonly DateTimeOffset Today = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["CdsMitral:PublicBaseUrl"] = "https://cds.example.org",
        // One trusted EHR whose JWTs every test request carries, allowed to name FHIR servers on loopback.
        ["CdsMitral:Trust:Clients:0:Issuer"] = TestEhr.Default.Issuer,
        ["CdsMitral:Trust:Clients:0:Name"] = "test EHR",
        ["CdsMitral:Trust:Clients:0:Jwks"] = TestEhr.Default.Jwks,
        ["CdsMitral:Trust:Clients:0:FhirServers:0"] = "http://127.0.0.1:*/fhir",
        ["CdsMitral:Trust:RequireHttpsFhirServer"] = "false",
        // In-process calls have no remote address, so every unauthenticated call of a test shares one budget: tests of
        // refusals (the fuzzers send hundreds) would meet 429. Tests of that limit set their own.
        ["CdsMitral:Callers:UnverifiedPermitLimit"] = "1000000",
    };

    /// <summary>The base URL the service believes it has, which signed tokens must name as aud.</summary>
    public string PublicBaseUrl => _settings["CdsMitral:PublicBaseUrl"] ?? "http://localhost";

    /// <summary>An HTTP client whose calls to /cds-services carry a fresh JWT of the test EHR.</summary>
    public HttpClient CreateSignedClient() => CreateDefaultClient(new SigningHandler(TestEhr.Default, PublicBaseUrl, Clock));

    /// <summary>The service's clock: tokens are issued by it, or they would look issued in the future.</summary>
    public FixedDateTimeProvider Clock { get; }

    private string _environment = "Testing";

    public ServiceFactory InEnvironment(string environment)
    {
        _environment = environment;
        return this;
    }

    /// <summary>Removes a setting the default configuration makes (null values would only blank it).</summary>
    public ServiceFactory Without(string keyPrefix)
    {
        foreach (var key in _settings.Keys.Where(k => k.StartsWith(keyPrefix, StringComparison.Ordinal)).ToList())
        {
            _settings.Remove(key);
        }
        return this;
    }

    public ServiceFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    private string? _settingsFile;

    /// <summary>Adds a JSON settings file, read after the other settings and re-read when it changes (as appsettings.json is).</summary>
    public ServiceFactory WithSettingsFile(string path)
    {
        _settingsFile = path;
        return this;
    }

    private readonly List<Action<IServiceCollection>> _services = [];

    /// <summary>Adds to the service's registrations, after its own (an in-memory telemetry exporter, say).</summary>
    public ServiceFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureTestServices(s => _services.ForEach(configure => configure(s)));
        builder.UseEnvironment(_environment);
        // Program reads these while it registers services, before the settings below reach its configuration.
        foreach (var (key, value) in _settings.Where(s => s.Key.StartsWith("CdsMitral:Telemetry:", StringComparison.Ordinal)))
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureAppConfiguration(c =>
        {
            c.AddInMemoryCollection(_settings);
            if (_settingsFile is not null)
            {
                c.AddJsonFile(_settingsFile, optional: false, reloadOnChange: true);
            }
        });
        builder.ConfigureServices(s => s.AddSingleton<TimeProvider>(Clock));
    }

    public async Task<HookResponse> PostAsync(string serviceId, JsonNode body, string contentType = "application/json")
    {
        using var client = CreateSignedClient();
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await client.PostAsync($"/cds-services/{serviceId}", content);
        return await HookResponse.ReadAsync(response);
    }

    public async Task<HookResponse> PostRawAsync(string path, string body, string contentType = "application/json")
    {
        using var client = CreateSignedClient();
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await client.PostAsync(path, content);
        return await HookResponse.ReadAsync(response);
    }
}

public sealed record HookResponse(int Status, string ContentType, string Body)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public IReadOnlyList<JsonNode> Cards => Json["cards"]!.AsArray().Select(c => c!).ToList();

    public IReadOnlyList<string> RuleIds => Cards.Select(c => (string)c["source"]!["topic"]!["code"]!).ToList();

    public JsonNode Card(string ruleId) => Cards.Single(c => (string?)c["source"]?["topic"]?["code"] == ruleId);

    /// <summary>The texts of an OperationOutcome's issues.</summary>
    public IReadOnlyList<string> Issues =>
        Json["issue"]!.AsArray().Select(i => (string?)i!["details"]?["text"] ?? (string?)i!["diagnostics"] ?? "").ToList();

    public static async Task<HookResponse> ReadAsync(HttpResponseMessage response) =>
        new((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsStringAsync());
}

public sealed class FixedDateTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private long _skipped;

    public override DateTimeOffset GetUtcNow() => start + Stopwatch.GetElapsedTime(_origin) + TimeSpan.FromTicks(Interlocked.Read(ref _skipped));

    /// <summary>Moves the clock on (days pass for retention, say); timers still run in real time.</summary>
    public void Advance(TimeSpan by) => Interlocked.Add(ref _skipped, by.Ticks);
}

public static class Requests
{
    public const string PatientViewId = "secondary-mr-patient-view";
    public const string OrderSelectId = "secondary-mr-order-select";
    public const string OrderSignId = "secondary-mr-order-sign";

    public static JsonObject PatientView(string patientId, JsonObject? prefetch = null, string? fhirServer = null, string? accessToken = null)
    {
        var request = new JsonObject
        {
            ["hook"] = "patient-view",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = new JsonObject { ["userId"] = "Practitioner/example", ["patientId"] = patientId },
        };
        return Complete(request, prefetch, fhirServer, accessToken);
    }

    public static JsonObject OrderSelect(string patientId, IEnumerable<JsonObject> drafts, IEnumerable<string> selections, JsonObject? prefetch = null, string? fhirServer = null)
    {
        var request = new JsonObject
        {
            ["hook"] = "order-select",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = new JsonObject
            {
                ["userId"] = "Practitioner/example",
                ["patientId"] = patientId,
                ["selections"] = new JsonArray(selections.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["draftOrders"] = Chart.Bundle(drafts, "collection"),
            },
        };
        return Complete(request, prefetch, fhirServer, null);
    }

    /// <summary>An order-sign request: every draft order is up for signing; CDS Hooks 2.0 gives it no selections.</summary>
    public static JsonObject OrderSign(string patientId, IEnumerable<JsonObject> drafts, JsonObject? prefetch = null, string? fhirServer = null)
    {
        var request = new JsonObject
        {
            ["hook"] = "order-sign",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = new JsonObject
            {
                ["userId"] = "Practitioner/example",
                ["patientId"] = patientId,
                ["draftOrders"] = Chart.Bundle(drafts, "collection"),
            },
        };
        return Complete(request, prefetch, fhirServer, null);
    }

    private static JsonObject Complete(JsonObject request, JsonObject? prefetch, string? fhirServer, string? accessToken)
    {
        if (fhirServer is not null)
        {
            request["fhirServer"] = fhirServer;
        }
        if (accessToken is not null)
        {
            request["fhirAuthorization"] = new JsonObject
            {
                ["access_token"] = accessToken,
                ["token_type"] = "Bearer",
                ["expires_in"] = 300,
                ["scope"] = "user/Observation.read user/MedicationRequest.read",
                ["subject"] = "cdsmitral",
            };
        }
        if (prefetch is not null)
        {
            request["prefetch"] = prefetch;
        }
        return request;
    }

    /// <summary>A draft ServiceRequest as an EHR would put it in draftOrders.</summary>
    public static JsonObject ServiceRequest(string id, string system, string code, string display, string? category = null, string patientId = "p1")
    {
        var order = new JsonObject
        {
            ["resourceType"] = "ServiceRequest",
            ["id"] = id,
            ["status"] = "draft",
            ["intent"] = "order",
            ["code"] = Chart.Concept(system, code, display),
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{patientId}" },
        };
        if (category is not null)
        {
            order["category"] = new JsonArray(Chart.Concept(Chart.Snomed, category, "Surgical procedure"));
        }
        return order;
    }

    public static JsonObject TeerOrder(string id = "teer-1", string patientId = "p1") =>
        ServiceRequest(id, "http://www.ama-assn.org/go/cpt", "33418", "Transcatheter mitral valve repair (TEER)", patientId: patientId);

    public static JsonObject SurgeryOrder(string id = "surg-1", string patientId = "p1") =>
        ServiceRequest(id, Chart.Snomed, "80146002", "Appendectomy", category: "387713003", patientId: patientId);
}
