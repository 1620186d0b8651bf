using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace CdsMitral.Cli;

public static class DiscoverCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("service-url") { Description = "The service's base URL or its /cds-services URL" };
        var json = new Option<bool>("--json") { Description = "Print the discovery document as JSON" };
        var signing = Signing.Options();
        var command = new Command("discover", """
            List a CDS service's services, hooks and prefetch templates.

            Example:
              cdsmitral discover http://localhost:5080/cds-services
            """) { url, json };
        signing.AddTo(command);
        command.SetAction((parse, _) => CliException.Guard(async () =>
        {
            var discovery = await FetchAsync(parse.GetValue(url)!, signing.Read(parse));
            if (parse.GetValue(json))
            {
                Console.WriteLine(discovery.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "hook", "title", "prefetch keys");
            foreach (var service in discovery["services"]!.AsArray())
            {
                var keys = service!["prefetch"] is JsonObject p ? string.Join(", ", p.Select(kv => kv.Key)) : "(none)";
                table.AddRow(Markup.Escape((string?)service["id"] ?? ""), Markup.Escape((string?)service["hook"] ?? ""),
                    Markup.Escape((string?)service["title"] ?? ""), Markup.Escape(keys));
            }
            AnsiConsole.Write(table);
            foreach (var service in discovery["services"]!.AsArray())
            {
                if (service!["prefetch"] is not JsonObject templates)
                {
                    continue;
                }
                AnsiConsole.MarkupLine($"\n[bold]{Markup.Escape((string?)service["id"] ?? "")}[/] prefetch templates:");
                foreach (var (key, template) in templates)
                {
                    AnsiConsole.MarkupLine($"  [deepskyblue1]{Markup.Escape(key)}[/]  {Markup.Escape(Shorten((string?)template))}");
                }
            }
            return 0;
        }));
        return command;
    }

    public static async Task<JsonNode> FetchAsync(string serviceUrl, Signing? signing)
    {
        var discoveryUrl = Http.ServiceBase(serviceUrl) + "/cds-services";
        using var client = Http.Client();
        var (status, body, _) = await Http.SendAsync(client, HttpMethod.Get, discoveryUrl, bearer: signing?.Token(discoveryUrl));
        if (status != 200 || body?["services"] is not JsonArray)
        {
            throw Http.Refusal(status, body, $"GET {discoveryUrl}");
        }
        return body;
    }

    private static string Shorten(string? template) => template is null ? "" : template.Length <= 100 ? template : template[..97] + "…";
}
