using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace CdsMitral.Cli;

/// <summary>Cards as a clinician would read them, in a terminal.</summary>
public static partial class Terminal
{
    public static void PrintCards(JsonArray cards, string heading)
    {
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(heading)}[/]");
        if (cards.Count == 0)
        {
            AnsiConsole.MarkupLine("[green]No cards: nothing applies.[/]");
            return;
        }
        foreach (var card in cards)
        {
            var indicator = (string?)card!["indicator"] ?? "info";
            var colour = indicator switch { "critical" => "red", "warning" => "orange1", _ => "deepskyblue1" };
            var lines = new List<string> { $"[bold]{Markup.Escape((string?)card["summary"] ?? "")}[/]", "" };
            lines.AddRange(((string?)card["detail"] ?? "").Split('\n').Select(Line));
            foreach (var link in card["links"]?.AsArray() ?? [])
            {
                lines.Add($"→ {Markup.Escape((string?)link!["label"] ?? "")}: {Markup.Escape((string?)link["url"] ?? "")}");
            }
            foreach (var suggestion in card["suggestions"]?.AsArray() ?? [])
            {
                lines.Add($"[green]Suggestion:[/] {Markup.Escape((string?)suggestion!["label"] ?? "")}");
            }
            var rule = (string?)card["source"]?["topic"]?["code"] ?? "";
            AnsiConsole.Write(new Panel(new Markup(string.Join("\n", lines)))
                .Header($"[{colour}] {indicator.ToUpperInvariant()} [/][grey]{Markup.Escape(rule)}[/]")
                .BorderColor(indicator == "warning" ? Color.Orange1 : indicator == "critical" ? Color.Red : Color.DeepSkyBlue1)
                .Expand());
        }
    }

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"(?<![\*\w])\*(?!\s)(.+?)\*(?![\*\w])")]
    private static partial Regex Italic();

    /// <summary>The little markdown the cards use (bold, italic, bullets), as terminal markup.</summary>
    private static string Line(string markdown)
    {
        var text = Markup.Escape(markdown);
        text = Bold().Replace(text, "[bold]$1[/]");
        text = Italic().Replace(text, "[italic]$1[/]");
        return text.StartsWith("- ", StringComparison.Ordinal) ? "  • " + text[2..] : text;
    }
}
