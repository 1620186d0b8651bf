using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace CdsMitral.Cli;

public static class LoadCommand
{
    public static Command Create()
    {
        var fhir = new Argument<string>("fhir-url") { Description = "The FHIR server's base URL" };
        var files = new Argument<string[]>("bundles") { Description = "Bundle files or sample names", Arity = ArgumentArity.OneOrMore };
        var token = new Option<string?>("--token") { Description = "A bearer token for the FHIR server" };
        var json = new Option<bool>("--json") { Description = "Report as JSON (no progress bar)" };
        var command = new Command("load", """
            Load patient bundles into a FHIR server, one PUT per resource with its own id: loading twice updates, never duplicates.

            Examples:
              cdsmitral load http://127.0.0.1:8080/fhir samples/patients/*.json
              cdsmitral load https://sandbox.example/fhir coapt-profile post-teer --token "$TOKEN"

            Sample patients' dates are moved to today (or --as-of), so that they give the same cards on any day.
            """) { fhir, files, token, json };
        var dates = SampleDates.Options();
        dates.AddTo(command);
        command.SetAction((parse, _) => CliException.Guard(async () =>
        {
            var baseUrl = parse.GetValue(fhir)!.TrimEnd('/');
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new CliException(CliException.BadInput, $"'{baseUrl}' is not an http(s) URL.");
            }
            var asOf = dates.Read(parse);
            var bundles = parse.GetValue(files)!.Select(f => PatientBundle.Load(f, asOf: asOf)).ToList();
            var work = bundles.SelectMany(b => b.Resources.Select(r => (Bundle: b, Resource: r))).ToList();
            var (created, updated) = (0, 0);
            using var client = Http.Client();

            async Task Put(JsonObject resource)
            {
                var path = $"{resource["resourceType"]}/{resource["id"]}";
                if (resource["id"] is null)
                {
                    throw new CliException(CliException.BadInput, $"A {resource["resourceType"]} has no id: loading it again would duplicate it.");
                }
                var (exists, _, _) = await Http.SendAsync(client, HttpMethod.Get, $"{baseUrl}/{path}", bearer: parse.GetValue(token));
                var (status, body, _) = await Http.SendAsync(client, HttpMethod.Put, $"{baseUrl}/{path}", resource, parse.GetValue(token));
                if (status is not (200 or 201))
                {
                    throw Http.Refusal(status, body, $"PUT {path}", fhirServer: true);
                }
                if (exists == 200)
                {
                    updated++;
                }
                else
                {
                    created++;
                }
            }

            if (parse.GetValue(json))
            {
                foreach (var (_, resource) in work)
                {
                    await Put(resource);
                }
                Console.WriteLine(new JsonObject { ["patients"] = new JsonArray(bundles.Select(b => (JsonNode)b.PatientId).ToArray()), ["created"] = created, ["updated"] = updated }.ToJsonString());
                return 0;
            }
            await AnsiConsole.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask($"Loading {bundles.Count} patient(s) into {Markup.Escape(baseUrl)}", maxValue: work.Count);
                foreach (var (_, resource) in work)
                {
                    await Put(resource);
                    task.Increment(1);
                }
            });
            AnsiConsole.MarkupLine($"[green]{created} created[/], {updated} updated, for {bundles.Count} patient(s): {Markup.Escape(string.Join(", ", bundles.Select(b => b.PatientId)))}");
            return 0;
        }));
        return command;
    }
}
