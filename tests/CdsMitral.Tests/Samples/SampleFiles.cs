using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Samples;

/// <summary>Renders <see cref="SamplePatients"/> as the files in samples/: transaction Bundles, ready requests
/// (with and without prefetch), expected.json and the README table.</summary>
public static class SampleFiles
{
    /// <summary>Where the no-prefetch requests point; the CLI and the integration tests replace it with a real server.</summary>
    public const string PlaceholderFhirServer = "http://localhost:8080/fhir";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ServiceId(string hook) => hook switch
    {
        "patient-view" => Requests.PatientViewId,
        "order-sign" => Requests.OrderSignId,
        _ => Requests.OrderSelectId,
    };

    public static string RequestFile(SamplePatient p, SampleRequest r, bool prefetch) =>
        $"requests/{p.Name}.{r.Hook}{(prefetch ? ".prefetch" : "")}.json";

    public static JsonObject Request(SamplePatient p, SampleRequest r, bool prefetch)
    {
        var data = prefetch ? p.Chart.Prefetch(Terminology.Terminology.Embedded) : null;
        var server = prefetch ? null : PlaceholderFhirServer;
        var request = r.Hook switch
        {
            "patient-view" => Requests.PatientView(p.Name, data, server),
            "order-sign" => Requests.OrderSign(p.Name, r.Orders!, data, server),
            _ => Requests.OrderSelect(p.Name, r.Orders!, r.Orders!.Select(o => $"ServiceRequest/{o["id"]}"), data, server),
        };
        request["hookInstance"] = StableGuid($"{p.Name}/{r.Hook}/{prefetch}").ToString();
        return request;
    }

    public static JsonObject TransactionBundle(SamplePatient p)
    {
        var patient = new JsonObject
        {
            ["resourceType"] = "Patient",
            ["id"] = p.Name,
            ["meta"] = new JsonObject { ["tag"] = new JsonArray(new JsonObject { ["system"] = "https://fhir.cdsmitral.org/CodeSystem/sample", ["code"] = "synthetic" }) },
            ["name"] = new JsonArray(new JsonObject { ["family"] = "Sample", ["given"] = new JsonArray(p.Name) }),
            ["gender"] = "unknown",
            ["birthDate"] = "1950-01-01",
        };
        // A chart that states its Patient (a birth date, deceased) adds to the sample's demographics.
        foreach (var (key, value) in p.Chart.Resources.FirstOrDefault(r => (string?)r["resourceType"] == "Patient") ?? [])
        {
            patient[key] = value?.DeepClone();
        }
        // PUT with the resource's own id: loading a sample twice updates it instead of duplicating it.
        var entries = new[] { patient }.Concat(p.Chart.Resources.Where(r => (string?)r["resourceType"] != "Patient")).Select(r => (JsonNode)new JsonObject
        {
            ["resource"] = r.DeepClone(),
            ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = $"{r["resourceType"]}/{r["id"]}" },
        });
        return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = new JsonArray(entries.ToArray()) };
    }

    public static IReadOnlyDictionary<string, string> Render()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var expected = new JsonObject();
        foreach (var p in SamplePatients.All)
        {
            files[$"patients/{p.Name}.json"] = Json(TransactionBundle(p));
            foreach (var r in p.Requests)
            {
                foreach (var prefetch in new[] { true, false })
                {
                    files[RequestFile(p, r, prefetch)] = Json(Request(p, r, prefetch));
                    expected[RequestFile(p, r, prefetch)] = new JsonObject
                    {
                        ["service"] = ServiceId(r.Hook),
                        ["patient"] = $"patients/{p.Name}.json",
                        ["expectedRules"] = new JsonArray(r.ExpectedRules.Select(x => (JsonNode)x).ToArray()),
                    };
                }
            }
        }
        files["expected.json"] = Json(expected);
        files["README.md"] = Readme();
        return files;
    }

    private static string Json(JsonNode node) => node.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    private static Guid StableGuid(string text) => new(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));

    private static string Readme()
    {
        string Rules(SamplePatient p, string hook) =>
            p.Requests.FirstOrDefault(r => r.Hook == hook) is { } r ? (r.ExpectedRules.Length == 0 ? "*(no cards)*" : string.Join(", ", r.ExpectedRules.Select(x => $"`{x}`"))) : "—";
        var rows = string.Join("\n", SamplePatients.All.Select(p => $"| `{p.Name}` | {p.Story} | {Rules(p, "patient-view")} | {Rules(p, "order-select")} | {Rules(p, "order-sign")} |"));
        return $$"""
            # Samples

            Synthetic patients (no real person) for trying the service and for its tests. Generated from
            `tests/CdsMitral.Tests/Samples/SamplePatients.cs`; a test fails if these files and that definition disagree.

            - `patients/<name>.json` — a FHIR R4 **transaction** Bundle (`PUT` with fixed ids, so loading twice does not duplicate)
            - `requests/<name>.<hook>.prefetch.json` — a ready hook request with every prefetch key filled
            - `requests/<name>.<hook>.json` — the same request **without prefetch**: the service fetches from `fhirServer`
              (`{{PlaceholderFhirServer}}` — point it at a FHIR server loaded with the patient)
            - `expected.json` — for each request, the rule ids of the cards it must produce (the table below)

            Echo dates count back from {{SamplePatients.AsOf:yyyy-MM-dd}}. The CLI (`cdsmitral hook`, `cdsmitral load`) moves a
            sample's dates by the days since then, so that through it every sample gives the cards below on any day
            (`--as-of` picks another day, `--keep-dates` sends them as written). The files here keep their dates: with the
            default 12-month window their "current" values stay current until about {{SamplePatients.AsOf.AddMonths(10):yyyy-MM}}.
            To rewrite them as of a later date: `CDSMITRAL_WRITE_SAMPLES=1 CDSMITRAL_SAMPLES_AS_OF=YYYY-MM-DD dotnet test CdsMitral.sln --filter Samples`.

            Try one against the running service (see the top-level README):

            ```sh
            dotnet run --project src/CdsMitral.Cli -- hook http://localhost:5080 --service secondary-mr-patient-view \
              --patient coapt-profile --prefetch
            ```

            | sample (patient id) | what the chart shows | patient-view cards | order-select cards | order-sign cards |
            |---|---|---|---|---|
            {{rows}}

            Order-select requests select a TEER order (CPT 33418) for the mitral samples and a cholecystectomy
            (category SNOMED 387713003, surgical procedure) for `post-teer`, `periop-secondary-mr` and `silent-mild-mr`.
            Order-sign requests carry every draft order up for signing and no selections: for `outside-range-lvesd` a TEER
            order and a cholecystectomy together, each getting its own card.

            """;
    }
}
