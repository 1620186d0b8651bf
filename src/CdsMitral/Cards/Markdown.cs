using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace CdsMitral.Cards;

/// <summary>
/// The one way text from a request or a record enters a card. Card detail is GitHub-flavoured markdown that EHRs render,
/// so every interpolated string is escaped: it can never start a heading, list, quote, link, image, autolink, HTML element
/// or attribute, and never breaks a line. Summaries are plain text: record text in them loses control and format
/// characters. Markup the service writes itself is passed as <see cref="Markdown.Trusted"/>.
/// </summary>
public static class Markdown
{
    /// <summary>Longest piece of text one hole of a card repeats; the rest is cut with an ellipsis.</summary>
    public const int MaxRecordText = 300;

    /// <summary>Markup the service wrote itself (emphasis around its own words), passed through unescaped.</summary>
    public readonly record struct Trusted(string Text);

    /// <summary>Finished, escaped markdown: the only kind a card's detail is built from.</summary>
    public readonly record struct Safe(string Text);

    public static Safe Of(Md text) => new(text.TakeText());

    /// <summary>Joins pieces that were each escaped on their own.</summary>
    public static Safe Join(string separator, IEnumerable<Safe> items) => new(string.Join(separator, items.Select(i => i.Text)));

    // ASCII punctuation that opens or closes inline markup in CommonMark, GFM or the common extensions EHR renderers turn on
    // (Markdig's advanced set among them): emphasis, code, links, images, HTML and autolinks, entities, tables,
    // strikethrough, marked/inserted/super- and subscript, math, citations, attributes, custom containers, and the schemes
    // of extended autolinks (every ':'). '#', '-' and a list number only matter where a block starts.
    private const string Inline = "\\`*_[]<>!|~&{}@=^+$\":";

    public static void AppendEscaped(StringBuilder md, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        var atLineStart = AtBlockStart(md, md.Length);
        var written = 0;
        for (var i = 0; i < text.Length && written < MaxRecordText; i++)
        {
            var c = text[i];
            if (IsInvisibleOrBreak(c))
            {
                c = ' ';
            }
            if (c == ' ' && (atLineStart || (md.Length > 0 && md[^1] == ' ')))
            {
                continue; // no indented code blocks, no runs of spaces that make hard breaks
            }
            if (Inline.Contains(c, StringComparison.Ordinal)
                || (atLineStart && c is '-' or '#')
                || (c is '.' or ')' && EndsWithListMarker(md))
                || (c == '.' && EndsWithWww(md)))
            {
                md.Append('\\');
            }
            md.Append(c);
            atLineStart = false;
            written++;
        }
        if (written == MaxRecordText && text.Length > MaxRecordText)
        {
            md.Append('…');
        }
    }

    /// <summary>Plain text for a summary: record text with control and format characters replaced, runs of spaces joined.</summary>
    public static string Plain(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var sb = new StringBuilder(Math.Min(text.Length, MaxRecordText + 1));
        foreach (var raw in text)
        {
            var c = IsInvisibleOrBreak(raw) ? ' ' : raw;
            if (c == ' ' && (sb.Length == 0 || sb[^1] == ' '))
            {
                continue;
            }
            if (sb.Length == MaxRecordText)
            {
                sb.Append('…');
                break;
            }
            sb.Append(c);
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>Controls, line and paragraph separators, format characters (bidirectional overrides, zero-width joiners)
    /// and lone surrogates: none of them belongs in a card.</summary>
    private static bool IsInvisibleOrBreak(char c) =>
        char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse;

    /// <summary>Whether text written at <paramref name="end"/> would open a block: the line before it is empty or holds
    /// only list and quote markers ("- ", "> "), after which a "#", "-" or "1." would start a heading or list.</summary>
    private static bool AtBlockStart(StringBuilder md, int end)
    {
        for (var i = end - 1; i >= 0 && md[i] != '\n'; i--)
        {
            if (md[i] is not (' ' or '-' or '*' or '+' or '>'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether the line so far ends in a short run of letters or digits at a block start: "1." or "a)" would
    /// start an ordered list (CommonMark's numbers, and the letters and roman numerals of list extensions).</summary>
    private static bool EndsWithListMarker(StringBuilder md)
    {
        var i = md.Length - 1;
        while (i >= 0 && md.Length - 1 - i < 10 && char.IsAsciiLetterOrDigit(md[i]))
        {
            i--;
        }
        return i < md.Length - 1 && AtBlockStart(md, i + 1);
    }

    private static bool EndsWithWww(StringBuilder md) =>
        md.Length >= 3 && char.ToLowerInvariant(md[^1]) == 'w' && char.ToLowerInvariant(md[^2]) == 'w' && char.ToLowerInvariant(md[^3]) == 'w';
}

/// <summary>An interpolated string for card detail: literals are the service's markdown, every string hole is escaped
/// with <see cref="Markdown.AppendEscaped"/>, numbers are written invariantly.</summary>
[InterpolatedStringHandler]
public readonly ref struct Md
{
    private readonly StringBuilder _md;

    public Md(int literalLength, int formattedCount) => _md = Builders.Rent(literalLength + (formattedCount * 16));

    public void AppendLiteral(string value) => _md.Append(value);

    public void AppendFormatted(string? value) => Markdown.AppendEscaped(_md, value);

    public void AppendFormatted(Markdown.Trusted value) => _md.Append(value.Text);

    public void AppendFormatted(Markdown.Safe value) => _md.Append(value.Text);

    public void AppendFormatted<T>(T value) where T : IFormattable => Markdown.AppendEscaped(_md, value.ToString(null, CultureInfo.InvariantCulture));

    public void AppendFormatted<T>(T value, string format) where T : IFormattable => Markdown.AppendEscaped(_md, value.ToString(format, CultureInfo.InvariantCulture));

    public string Text => _md.ToString();

    /// <summary>The text, once: the builder goes back to <see cref="Builders"/>, so the handler is not read again.</summary>
    internal string TakeText()
    {
        var text = _md.ToString();
        Builders.Return(_md);
        return text;
    }

    /// <summary>Appends the text to <paramref name="into"/> without making a string of it; the builder goes back.</summary>
    internal void MoveTo(StringBuilder into)
    {
        into.Append(_md);
        Builders.Return(_md);
    }
}

/// <summary>A few string builders kept per thread for card text: a card's detail is built from dozens of pieces, and a
/// new builder for each (grown chunk by chunk) was most of what the rules allocated. Nested pieces each get their own.</summary>
internal static class Builders
{
    private const int Kept = 8;
    private const int LargestKept = 16 * 1024;

    [ThreadStatic]
    private static StringBuilder?[]? _free;

    public static StringBuilder Rent(int capacity)
    {
        var free = _free;
        if (free is not null)
        {
            for (var i = 0; i < free.Length; i++)
            {
                if (free[i] is { } builder)
                {
                    free[i] = null;
                    return builder;
                }
            }
        }
        return new StringBuilder(Math.Max(capacity, 256));
    }

    public static void Return(StringBuilder builder)
    {
        if (builder.Capacity > LargestKept)
        {
            return;
        }
        builder.Clear();
        var free = _free ??= new StringBuilder?[Kept];
        for (var i = 0; i < free.Length; i++)
        {
            if (free[i] is null)
            {
                free[i] = builder;
                return;
            }
        }
    }
}
