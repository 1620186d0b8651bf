using System.Collections.Frozen;
using System.Net;
using Ganss.Xss;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace CdsMitral.Content;

public sealed record ContentPage(string Slug, string Title, string Audience, string Summary, string Updated, string Markdown)
{
    public string BodyHtml { get; init; } = "";

    /// <summary>A page written for patients and families: it carries the patient banner and the emergency advice, not the
    /// clinician's note (decision 29 of 2026-12-07).</summary>
    public bool ForPatients => Audience.StartsWith("patients", StringComparison.Ordinal);
}

/// <summary>What every page for patients says, in the same words wherever it is shown (content pages, the Navigator).</summary>
public static class PatientAdvice
{
    public const string Banner = "This page does not replace advice from your care team.";

    public const string EmergencyHeading = "When to get help now";

    public const string Emergency =
        "Call emergency services now (911 in the US, 112 in Europe) if you suddenly get very short of breath, have pain or " +
        "tightness in your chest, cannot lie flat because you cannot breathe, or faint.";

    public const string CallTeam =
        "Call your care team soon if your legs or ankles swell more, you gain weight fast, or you get more tired or short of " +
        "breath than usual.";

    /// <summary>The emergency advice as HTML (the service's own text).</summary>
    public static string Html =>
        $"<section class=\"emergency\" aria-labelledby=\"get-help\"><h2 id=\"get-help\">{EmergencyHeading}</h2><p><strong>{Emergency}</strong></p><p>{CallTeam}</p></section>";
}

/// <summary>The explanatory pages in cds-cards/ (markdown with a small front matter), embedded at build time.</summary>
public sealed partial class ContentCatalog
{
    // Only what the pages and cards use: CommonMark, pipe tables, emphasis extras (and heading ids on the pages).
    // No generic attributes (`{onerror=...}` became a live handler), no raw HTML, no bare-URL autolinks.
    private static readonly MarkdownPipeline PagePipeline = new MarkdownPipelineBuilder()
        .UsePipeTables().UseEmphasisExtras().UseAutoIdentifiers().DisableHtml().Build();

    private static readonly MarkdownPipeline DetailPipeline = new MarkdownPipelineBuilder()
        .UsePipeTables().UseEmphasisExtras().DisableHtml().Build();

    /// <summary>The second line of defence: whatever the pipeline let through, only these elements and attributes
    /// leave, and URLs only as http(s) or relative.</summary>
    private static readonly HtmlSanitizer Sanitizer = new(new HtmlSanitizerOptions
    {
        AllowedTags = new HashSet<string>(
            ["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "del", "ins", "sub", "sup", "mark",
             "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "a", "img"], StringComparer.OrdinalIgnoreCase),
        AllowedAttributes = new HashSet<string>(["href", "src", "alt", "title", "id", "start"], StringComparer.OrdinalIgnoreCase),
        AllowedSchemes = new HashSet<string>(["http", "https"], StringComparer.OrdinalIgnoreCase),
        UriAttributes = new HashSet<string>(["href", "src"], StringComparer.OrdinalIgnoreCase),
    });

    private readonly FrozenDictionary<string, ContentPage> _pages;

    public ContentCatalog(IEnumerable<(string Name, string Text)> files)
    {
        _pages = files.Select(f => Parse(f.Name, f.Text)).ToFrozenDictionary(p => p.Slug, StringComparer.Ordinal);
    }

    public static ContentCatalog Embedded { get; } = new(ReadEmbedded());

    public IEnumerable<ContentPage> Pages => _pages.Values.OrderBy(p => p.Title, StringComparer.Ordinal);

    public ContentPage? Find(string slug) => _pages.GetValueOrDefault(slug);

    public ContentPage Get(string slug) =>
        _pages.TryGetValue(slug, out var page) ? page : throw new KeyNotFoundException($"No content page '{slug}' in cds-cards/.");

    /// <summary>Markdown detail rendered as HTML, for places that show a card as a clinician sees it. The text may
    /// come from a chart: nothing in it can add an element, an attribute, a script URL or a remote image.</summary>
    public static string RenderMarkdown(string markdown) => RenderSafe(markdown, DetailPipeline);

    private static string RenderSafe(string markdown, MarkdownPipeline pipeline)
    {
        var document = Markdig.Markdown.Parse(markdown, pipeline);
        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            if (!IsSafeUrl(link.Url, link.IsImage))
            {
                link.ReplaceBy(new LiteralInline(PlainText(link)), copyChildren: false);
            }
        }
        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            if (autolink.IsEmail || !IsSafeUrl(autolink.Url, image: false))
            {
                autolink.ReplaceBy(new LiteralInline(autolink.Url), copyChildren: false);
            }
        }
        return Sanitizer.Sanitize(document.ToHtml(pipeline));
    }

    /// <summary>Links may go to http(s), a relative path or a fragment; images only to this service's own paths.</summary>
    public static bool IsSafeUrl(string? url, bool image)
    {
        // Browsers drop tabs and line breaks inside URLs ("java\tscript:"), so any control or space character refuses.
        if (string.IsNullOrEmpty(url) || url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c == '\\'))
        {
            return false;
        }
        if (url.StartsWith("//", StringComparison.Ordinal))
        {
            return !image && Uri.TryCreate("https:" + url, UriKind.Absolute, out _);
        }
        if (url.StartsWith('/') || (!image && url.StartsWith('#')))
        {
            return true;
        }
        var end = url.IndexOfAny(['/', '?', '#']);
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || (end >= 0 && colon > end))
        {
            return true; // relative, no scheme
        }
        return !image && Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
            && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
    }

    private static string PlainText(ContainerInline inline) => string.Concat(inline.Descendants<Inline>().Select(i => i switch
    {
        LiteralInline literal => literal.Content.ToString(),
        CodeInline code => code.Content,
        LineBreakInline => " ",
        _ => "",
    }));

    private static ContentPage Parse(string name, string text)
    {
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!text.StartsWith("---\n", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: a content page starts with front matter between '---' lines.");
        }
        var end = text.IndexOf("\n---\n", 4, StringComparison.Ordinal);
        if (end < 0)
        {
            throw new InvalidDataException($"{name}: the front matter is not closed with '---'.");
        }
        var fields = text[4..end].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim().Trim('"'), StringComparer.Ordinal);
        string Field(string key) => fields.TryGetValue(key, out var v) && v.Length > 0
            ? v
            : throw new InvalidDataException($"{name}: front matter has no '{key}'.");
        var body = Expand(name, text[(end + 5)..]);
        return new ContentPage(Field("slug"), Field("title"), Field("audience"), Expand(name, Field("summary")), Field("updated"), body)
        {
            BodyHtml = RenderSafe(body, PagePipeline),
        };
    }

    /// <summary>The pages name the clinical numbers and the evidence as the cards do, from the one place each is written:
    /// <c>{{threshold:lvef-window}}</c> from <see cref="Clinical.Thresholds"/>, <c>{{evidence:coapt-5-year}}</c> from
    /// <see cref="Clinical.Evidence"/>. A name neither knows stops the service at start-up rather than show a hole.</summary>
    private static string Expand(string name, string text) => Placeholder().Replace(text, m =>
        (m.Groups[1].Value == "threshold" ? Clinical.Thresholds.ByKey : Clinical.Evidence.ByKey).TryGetValue(m.Groups[2].Value, out var value)
            ? value
            : throw new InvalidDataException($"{name}: no {m.Groups[1].Value} named '{m.Groups[2].Value}' for {m.Value}."));

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{(threshold|evidence):([a-z0-9-]+)\}\}")]
    private static partial System.Text.RegularExpressions.Regex Placeholder();

    private static IEnumerable<(string, string)> ReadEmbedded()
    {
        var assembly = typeof(ContentCatalog).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("cds-cards/", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            yield return (name, reader.ReadToEnd());
        }
    }

    /// <summary>The pages' only style: the service's Content-Security-Policy allows exactly this text, by its hash.</summary>
    public const string Stylesheet = """
        body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
        h1{font-size:1.6rem} .note{border-left:4px solid #b35900;background:#fff6ec;padding:.5rem 1rem}
        .meta{color:#555;font-size:.9rem} nav{margin-top:3rem;border-top:1px solid #ccc;font-size:.9rem}
        table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.25rem .5rem}
        """;

    /// <summary>A whole, plain, readable page: no script, works in any browser and in an EHR's embedded viewer.</summary>
    public string RenderPage(ContentPage page, string baseUrl)
    {
        var e = (string s) => WebUtility.HtmlEncode(s);
        var nav = string.Join("", Pages.Select(p => $"<li><a href=\"{e(baseUrl)}/content/{e(p.Slug)}\">{e(p.Title)}</a></li>"));
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{e(page.Title)}} · CdsMitral</title>
            <style>{{Stylesheet}}</style></head>
            <body><main>
            <p class="meta">CdsMitral · {{e(page.Audience)}} · updated {{e(page.Updated)}}</p>
            <h1>{{e(page.Title)}}</h1>
            <p class="note">{{(page.ForPatients ? PatientAdvice.Banner : "For clinical reference; not a substitute for clinical judgement.")}}</p>
            {{(page.ForPatients ? PatientAdvice.Html : "")}}
            {{page.BodyHtml}}
            </main>
            <nav><p>Other pages</p><ul>{{nav}}</ul></nav>
            </body></html>
            """;
    }

    /// <summary>The list of pages, at /content.</summary>
    public string RenderIndex(string baseUrl)
    {
        var e = (string s) => WebUtility.HtmlEncode(s);
        var items = string.Join("", Pages.Select(p => $"<li><a href=\"{e(baseUrl)}/content/{e(p.Slug)}\">{e(p.Title)}</a> — {e(p.Summary)}</li>"));
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>CdsMitral content</title>
            <style>{{Stylesheet}}</style></head>
            <body><main>
            <h1>CdsMitral: secondary mitral regurgitation</h1>
            <p>Explanatory pages linked from the service's cards. CDS Hooks discovery is at <a href="{{e(baseUrl)}}/cds-services">/cds-services</a>.</p>
            <ul>{{items}}</ul>
            </main></body></html>
            """;
    }
}
