using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace CdsMitral.Cli;

/// <summary>Cards as a clinician would read them, in a terminal; plain text where the output is a pipe or a file.</summary>
public static partial class Terminal
{
    /// <summary>The width of output that is not a terminal: wide enough that tables and URLs are never wrapped.</summary>
    private const int UnboundedWidth = 32_767;

    /// <summary>Whether standard output is a terminal (when it is not, output carries no escape codes and does not wrap).</summary>
    public static bool IsTerminal { get; private set; } = true;

    /// <summary>Sets up standard output once, at start.</summary>
    public static void Configure()
    {
        IsTerminal = !Console.IsOutputRedirected;
        AnsiConsole.Console = Create(Console.Out, Console.IsOutputRedirected);
    }

    /// <summary>A console on <paramref name="writer"/> that follows the conventions: no escape codes into a pipe or a file
    /// unless FORCE_COLOR asks for them, no colour when NO_COLOR is set (https://no-color.org), whatever the terminal.</summary>
    public static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var noColor = Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };
        var force = Environment.GetEnvironmentVariable("FORCE_COLOR") is { Length: > 0 } value && value != "0";
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = force ? AnsiSupport.Yes : redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = noColor ? ColorSystemSupport.NoColors : force ? ColorSystemSupport.Standard : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(writer),
        });
        if (redirected)
        {
            console.Profile.Width = UnboundedWidth;
        }
        return console;
    }

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
            if (!IsTerminal)
            {
                // A pipe or a file: no box to wrap lines in, so nothing (a URL, a value) is cut.
                AnsiConsole.MarkupLine($"{indicator.ToUpperInvariant()} {Markup.Escape(rule)}");
                lines.ForEach(line => AnsiConsole.MarkupLine(line.Length == 0 ? "" : "  " + line));
                AnsiConsole.WriteLine();
                continue;
            }
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

    /// <summary>A backslash before ASCII punctuation: markdown's escape (the service escapes what it quotes from a chart).</summary>
    [GeneratedRegex(@"\\([!-/:-@\[-`{-~])")]
    private static partial Regex Escaped();

    /// <summary>Where an escaped character waits while the emphasis is read: a private-use character per ASCII one.</summary>
    private const char Held = '\uE000';

    /// <summary>The little markdown the cards use (bold, italic, bullets, escapes), as terminal markup: an escaped
    /// character is shown as itself (record: not record\:) and is never read as emphasis.</summary>
    private static string Line(string markdown)
    {
        var text = Markup.Escape(Escaped().Replace(markdown, m => ((char)(Held + m.Groups[1].Value[0])).ToString()));
        text = Bold().Replace(text, "[bold]$1[/]");
        text = Italic().Replace(text, "[italic]$1[/]");
        text = string.Concat(text.Select(c => c > Held && c < Held + 128 ? Markup.Escape(((char)(c - Held)).ToString()) : c.ToString()));
        return text.StartsWith("- ", StringComparison.Ordinal) ? "  • " + text[2..] : text;
    }
}
