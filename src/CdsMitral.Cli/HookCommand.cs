using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace CdsMitral.Cli;

public static class HookCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("service-url") { Description = "The CDS service's base URL (or its /cds-services URL)" };
        var service = new Option<string>("--service") { Description = "The service id, as discovery lists it", Required = true };
        var patient = new Option<string>("--patient") { Description = "A sample name (samples/patients/NAME.json) or a FHIR Bundle file", Required = true };
        var patientId = new Option<string?>("--patient-id") { Description = "The patient id, when the bundle's Patient is not the one" };
        var prefetch = new Option<bool>("--prefetch") { Description = "Send prefetch computed from the service's templates (against the bundle, or the --fhir server)" };
        var fhir = new Option<string?>("--fhir") { Description = "A FHIR server holding the patient: sent as fhirServer, so the service fetches what is not prefetched" };
        var token = new Option<string?>("--token") { Description = "The access token for the FHIR server (sent as fhirAuthorization)" };
        var order = new Option<string>("--order") { Description = "order-select: 'teer', 'surgery', or a file holding the draft ServiceRequest", DefaultValueFactory = _ => "teer" };
        var user = new Option<string>("--user") { Description = "context.userId", DefaultValueFactory = _ => "Practitioner/cdsmitral-cli" };
        var json = new Option<bool>("--json") { Description = "Print the service's response as JSON" };
        var print = new Option<bool>("--print-request") { Description = "Print the hook request as JSON instead of sending it (to post it with curl)" };
        var signing = Signing.Options();
        var dates = SampleDates.Options();
        var command = new Command("hook", """
            Fire a hook as an EHR would and show the cards as a clinician would read them.

            Examples:
              cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile --prefetch
              cdsmitral hook http://localhost:5080 --service secondary-mr-order-select --patient outside-range-lvesd --prefetch --order teer
              cdsmitral hook http://localhost:5080 --service secondary-mr-order-sign --patient post-teer --prefetch --order surgery
              cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile \
                --fhir http://127.0.0.1:8080/fhir --token secret --sign-with keys/my-ehr.private.jwk.json --issuer https://my-ehr.example
              cdsmitral hook http://localhost:5080 --service secondary-mr-patient-view --patient coapt-profile --prefetch --print-request > request.json

            Sample patients' dates are moved to today (or --as-of), so that they give the same cards on any day.
            """) { url, service, patient, patientId, prefetch, fhir, token, order, user, json, print };
        signing.AddTo(command);
        dates.AddTo(command);
        command.SetAction((parse, _) => CliException.Guard(async () =>
        {
            var sign = signing.Read(parse);
            var chart = PatientBundle.Load(parse.GetValue(patient)!, parse.GetValue(patientId), dates.Read(parse));
            var fhirServer = parse.GetValue(fhir);
            if (!parse.GetValue(prefetch) && fhirServer is null)
            {
                throw new CliException(CliException.BadInput, "Give the service its data: --prefetch, or --fhir (or both).");
            }
            var discovery = await DiscoverCommand.FetchAsync(parse.GetValue(url)!, sign);
            var id = parse.GetValue(service)!;
            var definition = discovery["services"]!.AsArray().FirstOrDefault(s => (string?)s?["id"] == id)
                ?? throw new CliException(CliException.BadInput, $"The service has no '{id}'. It offers: {string.Join(", ", discovery["services"]!.AsArray().Select(s => (string?)s?["id"]))}.");
            var hook = (string)definition["hook"]!;

            var context = new JsonObject { ["userId"] = parse.GetValue(user), ["patientId"] = chart.PatientId };
            if (hook is "order-select" or "order-sign")
            {
                var draft = Orders.Draft(parse.GetValue(order)!, chart.PatientId);
                if (hook == "order-select")
                {
                    context["selections"] = new JsonArray($"{draft["resourceType"]}/{draft["id"]}");
                }
                context["draftOrders"] = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "collection", ["entry"] = new JsonArray(new JsonObject { ["resource"] = draft }) };
            }
            var request = new JsonObject { ["hook"] = hook, ["hookInstance"] = Guid.NewGuid().ToString(), ["context"] = context };
            if (fhirServer is not null)
            {
                request["fhirServer"] = fhirServer.TrimEnd('/');
                if (parse.GetValue(token) is { } accessToken)
                {
                    request["fhirAuthorization"] = new JsonObject
                    {
                        ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = 300,
                        ["scope"] = "user/Patient.read user/Observation.read user/MedicationStatement.read user/MedicationRequest.read user/Condition.read user/Procedure.read",
                        ["subject"] = "cdsmitral-cli",
                    };
                }
            }
            if (parse.GetValue(prefetch) && definition["prefetch"] is JsonObject templates)
            {
                request["prefetch"] = fhirServer is null
                    ? LocalPrefetch.Evaluate(templates, chart, parse.GetValue(user)!)
                    : await RemotePrefetch(templates, chart.PatientId, fhirServer, parse.GetValue(token));
            }

            if (parse.GetValue(print))
            {
                Console.WriteLine(request.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var serviceUrl = $"{Http.ServiceBase(parse.GetValue(url)!)}/cds-services/{id}";
            using var client = Http.Client();
            var (status, body, ms) = await Http.SendAsync(client, HttpMethod.Post, serviceUrl, request, sign?.Token(serviceUrl));
            if (status != 200 || body?["cards"] is not JsonArray cards)
            {
                throw Http.Refusal(status, body, $"POST {serviceUrl}");
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(body.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            Terminal.PrintCards(cards, $"{hook} for {chart.PatientId} ({Path.GetFileName(chart.Source)}), {(request["prefetch"] is null ? "no prefetch" : "with prefetch")}: HTTP {status} in {ms:0} ms");
            return 0;
        }));
        return command;
    }

    /// <summary>Prefetch as an EHR computes it: each template run against the FHIR server (a 404 read is null).</summary>
    private static async Task<JsonObject> RemotePrefetch(JsonObject templates, string patientId, string fhirServer, string? token)
    {
        using var client = Http.Client();
        var prefetch = new JsonObject();
        foreach (var (key, value) in templates)
        {
            var query = ((string?)value ?? "").Replace("{{context.patientId}}", Uri.EscapeDataString(patientId), StringComparison.Ordinal).Replace("|", "%7C", StringComparison.Ordinal);
            var (status, body, _) = await Http.SendAsync(client, HttpMethod.Get, $"{fhirServer.TrimEnd('/')}/{query}", bearer: token);
            prefetch[key] = status switch
            {
                200 => body,
                404 when !query.Contains('?', StringComparison.Ordinal) => null,
                _ => throw new CliException(CliException.HttpError, $"The FHIR server answered {status} to {query}: {Http.Issues(body)}"),
            };
        }
        return prefetch;
    }
}

public static class Orders
{
    /// <summary>A draft order: a TEER (CPT 33418), a surgical procedure (SNOMED category 387713003), or one read from a file.</summary>
    public static JsonObject Draft(string what, string patientId)
    {
        JsonObject Request(string id, string system, string code, string display, bool surgical) => new()
        {
            ["resourceType"] = "ServiceRequest", ["id"] = id, ["status"] = "draft", ["intent"] = "order",
            ["category"] = surgical ? new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://snomed.info/sct", ["code"] = "387713003", ["display"] = "Surgical procedure" }) }) : null,
            ["code"] = new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = system, ["code"] = code, ["display"] = display }), ["text"] = display },
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{patientId}" },
        };
        var draft = what switch
        {
            "teer" => Request("cli-teer", "http://www.ama-assn.org/go/cpt", "33418", "Transcatheter mitral valve repair (TEER)", false),
            "surgery" => Request("cli-surgery", "http://snomed.info/sct", "38102005", "Cholecystectomy", true),
            _ when File.Exists(what) => JsonNode.Parse(File.ReadAllText(what)) as JsonObject ?? throw new CliException(CliException.BadInput, $"{what} is not a JSON object."),
            _ => throw new CliException(CliException.BadInput, $"--order is 'teer', 'surgery' or a file; '{what}' is none of them."),
        };
        if (draft["category"] is null)
        {
            draft.Remove("category");
        }
        if (draft["id"] is null || draft["resourceType"] is null)
        {
            throw new CliException(CliException.BadInput, "The draft order needs a resourceType and an id.");
        }
        return draft;
    }
}
