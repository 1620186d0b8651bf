using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using FsCheck;
using FsCheck.Fluent;

namespace CdsMitral.Tests.Fuzz;

/// <summary>
/// Property tests over mutated requests: the spec's examples, every sample request and a few feedback bodies, bent by
/// 1–4 random mutations (structural, escapes and byte-level), and mutated client JWTs. Whatever arrives, the answer is
/// below 500, is JSON of the right kind (an OperationOutcome for every error), and the service is still healthy
/// afterwards. FsCheck prints the seed of any failing case to replay it.
/// </summary>
[Slow]
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int BodyCases = 3000;
    private const int TokenCases = 1000;
    private readonly ServiceFactory _service = new ServiceFactory().With("CdsMitral:Callers:PermitLimit", "1000000");
    private readonly ConcurrentDictionary<int, int> _statuses = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _service.DisposeAsync();

    private static readonly (string Service, string Json)[] Seeds = LoadSeeds();

    /// <summary>Feedback bodies (posted to {service}/feedback): the Sandbox's shape, an accepted outcome, two items.</summary>
    private static readonly string[] FeedbackSeeds =
    [
        """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000001","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00.000Z","overrideReason":{"reason":{"code":"patient-refuses","system":"http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"}}}]}""",
        """{"feedback":[{"card":"9e1d2b6c-0000-4000-8000-000000000002","outcome":"accepted","outcomeTimestamp":"2026-11-21T12:00:00Z","acceptedSuggestions":[{"id":"s1"}]}]}""",
        """{"feedback":[{"card":"c1","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"seen \u00e9 \ud83d\ude00"}},{"card":"c2","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:00:00Z","overrideReason":{"userComment":"x"}}]}""",
    ];

    /// <summary>Escapes and bytes that are JSON-valid but not Unicode-valid, or almost JSON: lone high and low surrogates,
    /// a high surrogate before something else, a reversed pair, a pair broken by an escaped backslash, NUL, escapes of
    /// plain ASCII, truncated escapes, escaped quotes, and a BOM (U+FEFF) where it does not belong.</summary>
    private static readonly string[] Escapes =
    [
        "\\ud800", "\\uDFFF", "\\udbff", "\\uD83D", "\\ud800\\u0041", "\\ud800x", "\\udc00\\ud800", "\\ud83d\\\\ude00",
        "\\ud83d\\ude00", "\\u0000", "\\u0041\\u002F", "\\u00", "\\u", "\\\"", "\\\"x\\\"", "\\/", "\uFEFF", "\\uFEFF",
    ];

    private static (string, string)[] LoadSeeds()
    {
        var seeds = new List<(string, string)>();
        var expected = JsonNode.Parse(File.ReadAllText(Repo.PathOf("samples", "expected.json")))!.AsObject();
        foreach (var (file, info) in expected)
        {
            seeds.Add(((string)info!["service"]!, File.ReadAllText(Repo.PathOf("samples", file))));
        }
        foreach (var name in new[] { "spec20-02-request-patient-view-full", "spec20-26-request-with-extension" })
        {
            seeds.Add((Requests.PatientViewId, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SpecExamples", name + ".json"))));
        }
        foreach (var (name, hook) in new[] { ("lib-order-select-01-context-R4", "order-select"), ("lib-order-select-03-context-DSTU2", "order-select"), ("lib-patient-view-02-context-with-encounter", "patient-view") })
        {
            var request = new JsonObject
            {
                ["hook"] = hook, ["hookInstance"] = Guid.NewGuid().ToString(),
                ["context"] = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "SpecExamples", name + ".json")))!["context"]!.DeepClone(),
                ["prefetch"] = new Chart().Prefetch(Terminology.Terminology.Embedded),
            };
            seeds.Add((hook == "patient-view" ? Requests.PatientViewId : Requests.OrderSelectId, request.ToJsonString()));
        }
        return [.. seeds];
    }

    private static readonly JsonNode?[] Replacements =
    [
        null, true, 0, -1, 1.5e308, "", new string('x', 5000), "Patient/../../etc", "http://169.254.169.254/latest",
        "2026-13-45", "<script>alert(1)</script>", new JsonObject(), new JsonArray(), new JsonArray(1, 2, 3),
        new JsonObject { ["resourceType"] = "OperationOutcome", ["issue"] = new JsonArray() },
        new JsonObject { ["resourceType"] = "Bundle", ["entry"] = new JsonArray(new JsonObject { ["resource"] = null }) },
        new JsonObject { ["resourceType"] = "Bundle", ["total"] = 99999, ["link"] = new JsonArray(new JsonObject { ["relation"] = "next", ["url"] = "http://127.0.0.1:9/fhir/x" }) },
    ];

    /// <summary>Applies <paramref name="count"/> mutations chosen by <paramref name="seed"/>; the same inputs give the same bytes.</summary>
    public static byte[] Mutate(string json, int seed, int count)
    {
        var random = new Random(seed);
        var node = JsonNode.Parse(json)!;
        var text = (string?)null;
        for (var i = 0; i < count; i++)
        {
            var kind = random.Next(10);
            if (kind < 6 || text is not null && kind < 8)
            {
                if (text is not null)
                {
                    node = TryParse(text) ?? node;
                    text = null;
                }
                MutateTree(node, random, kind);
            }
            else
            {
                text ??= node.ToJsonString();
                text = MutateText(text, random, kind);
            }
        }
        // Escape mutations come last, on the text: reparsing a lone surrogate into a tree would not survive.
        if (random.Next(2) == 0)
        {
            text ??= node.ToJsonString();
            for (var i = random.Next(1, 3); i > 0; i--)
            {
                text = InsertEscape(text, random);
            }
        }
        return text is null ? Encoding.UTF8.GetBytes(node.ToJsonString()) : MutateBytes(Encoding.UTF8.GetBytes(text), random);
    }

    /// <summary>Puts one of <see cref="Escapes"/> just inside a string, a value's or a member name's (after an opening
    /// quote), or now and then anywhere.</summary>
    private static string InsertEscape(string text, Random random)
    {
        var escape = Escapes[random.Next(Escapes.Length)];
        var openings = new List<int>();
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == '"' && text[i - 1] is ':' or ',' or '{' or '[')
            {
                openings.Add(i + 1);
            }
        }
        var at = openings.Count == 0 || random.Next(8) == 0 ? random.Next(text.Length + 1) : openings[random.Next(openings.Count)];
        return text.Insert(at, escape);
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            // Strict and eager: JsonNode otherwise defers duplicate keys until the tree is first walked.
            var node = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false });
            // A text mutation may have left an escaped lone surrogate, which parses but cannot be written back out.
            _ = node?.ToJsonString();
            return node;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return null; // text mutations may leave JSON that no longer parses (or has duplicate keys): keep mutating the tree
        }
    }

    private static void MutateTree(JsonNode root, Random random, int kind)
    {
        var all = new List<JsonNode>();
        void Walk(JsonNode n)
        {
            all.Add(n);
            foreach (var child in n switch { JsonObject o => o.Select(p => p.Value), JsonArray a => a.AsEnumerable(), _ => [] })
            {
                if (child is not null)
                {
                    Walk(child);
                }
            }
        }
        Walk(root);
        var target = all[random.Next(all.Count)];
        var parent = target.Parent;
        switch (kind % 4)
        {
            case 0 when parent is JsonObject po:
                po[target.GetPropertyName()] = Replacements[random.Next(Replacements.Length)]?.DeepClone();
                break;
            case 1 when parent is JsonObject po:
                po.Remove(target.GetPropertyName());
                break;
            case 2 when parent is JsonArray pa:
                pa[target.GetElementIndex()] = Replacements[random.Next(Replacements.Length)]?.DeepClone();
                break;
            case 2 when parent is JsonObject po:
                var name = target.GetPropertyName();
                po.Remove(name);
                po[name + (random.Next(2) == 0 ? "X" : "")] = new JsonArray(target); // wrap in an array, maybe renamed
                break;
            case 3 when target is JsonObject o && o.ContainsKey("resourceType"):
                o["resourceType"] = random.Next(3) switch { 0 => "Observation", 1 => "Bundle", _ => "MedicationOrder" };
                break;
            default:
                if (target is JsonObject obj)
                {
                    obj["extension"] = new JsonObject { ["fuzz"] = random.Next() };
                }
                break;
        }
    }

    private static string MutateText(string text, Random random, int kind)
    {
        var at = random.Next(text.Length + 1);
        return kind switch
        {
            6 => text[..at], // truncated
            7 => text.Insert(at, random.Next(4) switch { 0 => "{", 1 => "]", 2 => ",", _ => "\"" }),
            8 => DuplicateAKey(text, random),
            _ => text.Insert(at, new string('[', 300)),
        };
    }

    private static string DuplicateAKey(string text, Random random)
    {
        var at = text.IndexOf("\"hook\":", StringComparison.Ordinal);
        return at < 0 ? text : text.Insert(at, random.Next(2) == 0 ? "\"hook\":\"order-sign\"," : "\"hookInstance\":1,");
    }

    private static byte[] MutateBytes(byte[] bytes, Random random)
    {
        if (bytes.Length > 0 && random.Next(3) == 0)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100); // likely invalid UTF-8
        }
        if (random.Next(6) == 0)
        {
            // A BOM first (ignored), or an overlong encoding of '/' (invalid UTF-8) somewhere.
            byte[] insert = random.Next(3) switch { 0 => [0xEF, 0xBB, 0xBF], 1 => [0xC0, 0xAF], _ => [0xE0, 0x80, 0xAF] };
            var at = insert.Length == 3 && insert[0] == 0xEF && random.Next(2) == 0 ? 0 : random.Next(bytes.Length + 1);
            bytes = [.. bytes[..at], .. insert, .. bytes[at..]];
        }
        return bytes;
    }

    private int _notUnicode;

    private async Task<int> Post(string serviceId, byte[] body, string? token = null, bool feedback = false)
    {
        using var client = token is null ? _service.CreateSignedClient() : _service.CreateClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/cds-services/{serviceId}{(feedback ? "/feedback" : "")}") { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await client.SendAsync(request);
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        _statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
        Assert.True(status < 500, $"{status}: {text}");
        if (feedback && status == 200)
        {
            return status; // feedback is acknowledged without a body
        }
        var json = JsonNode.Parse(text)!;
        Assert.True(status == 200 ? json["cards"] is JsonArray : (string?)json["resourceType"] == "OperationOutcome", text);
        if (text.Contains("not valid Unicode", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _notUnicode);
        }
        Assert.DoesNotContain(" at CdsMitral", text, StringComparison.Ordinal);
        return status;
    }

    [Fact]
    public async Task MutatedRequestsNeverCauseA5xxAndTheServiceStaysHealthy()
    {
        // Seeds past the hook requests are feedback bodies, posted to the first service's feedback endpoint.
        var cases = from seed in Gen.Choose(0, Seeds.Length + FeedbackSeeds.Length - 1)
                    from rng in Gen.Choose(0, int.MaxValue - 1)
                    from count in Gen.Choose(1, 4)
                    select (seed, rng, count);
        var ran = 0;
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            Interlocked.Increment(ref ran);
            var feedback = c.seed >= Seeds.Length;
            var (service, json) = feedback ? (Requests.PatientViewId, FeedbackSeeds[c.seed - Seeds.Length]) : Seeds[c.seed];
            Post(service, Mutate(json, c.rng, c.count), feedback: feedback).GetAwaiter().GetResult();
        });
        // Off the test's synchronisation context: the property blocks on each HTTP call.
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(BodyCases).WithQuietOnSuccess(true), property));

        Assert.Equal(BodyCases, ran);
        output.WriteLine($"{ran} mutated requests; statuses: {string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.True(_statuses.Keys.Count >= 3, "the mutations should reach more than one kind of answer");
        Assert.True(_notUnicode > BodyCases / 20, $"only {_notUnicode} answers named text that is not valid Unicode: the escape mutations should reach the check");
        using var client = _service.CreateSignedClient();
        using var health = await client.GetAsync("/cds-services");
        Assert.Equal(200, (int)health.StatusCode);
    }

    [Fact]
    public async Task MutatedClientTokensAreRefusedWithoutA5xx()
    {
        var body = Encoding.UTF8.GetBytes(Requests.PatientView("p1", new Chart().Prefetch(Terminology.Terminology.Embedded)).ToJsonString());
        var audience = $"{_service.PublicBaseUrl}/cds-services/{Requests.PatientViewId}";
        var cases = from rng in Gen.Choose(0, int.MaxValue - 1) from kind in Gen.Choose(0, 6) select (rng, kind);
        var ran = 0;
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            Interlocked.Increment(ref ran);
            var random = new Random(c.rng);
            var token = TestEhr.Default.Token(audience, issuedAt: _service.Clock.GetUtcNow());
            var parts = token.Split('.');
            var mutated = c.kind switch
            {
                0 => token[..random.Next(token.Length)],
                1 => MutateChar(token, random, alphabet: "ABCxyz019-_"),
                2 => $"{parts[0]}.{parts[1]}.",
                3 => $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"test-key-1\"}")}.{parts[1]}.{parts[2]}",
                4 => $"{parts[1]}.{parts[0]}.{parts[2]}",
                5 => $"{Base64Url("{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"" + new string('k', random.Next(1, 5000)) + "\",\"jku\":\"http://169.254.169.254/\"}")}.{parts[1]}.{parts[2]}",
                _ => Convert.ToBase64String(Encoding.UTF8.GetBytes(token)),
            };
            var status = Post(Requests.PatientViewId, body, mutated).GetAwaiter().GetResult();
            Assert.True(status is 401 or 200, $"status {status}");
        });
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(TokenCases).WithQuietOnSuccess(true), property));
        Assert.Equal(TokenCases, ran);
        output.WriteLine($"{ran} mutated tokens; statuses: {string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.True(_statuses.GetValueOrDefault(401) > TokenCases * 9 / 10);
    }

    private static string MutateChar(string token, Random random, string alphabet)
    {
        var chars = token.ToCharArray();
        chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
        return new string(chars);
    }

    private static string Base64Url(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
