using System.Collections.Frozen;
using System.Net;
using Markdig;

namespace CdsMitral.Content;

public sealed record ContentPage(string Slug, string Title, string Audience, string Summary, string Updated, string Markdown)
{
    public string BodyHtml { get; init; } = "";
}

/// <summary>The explanatory pages in cds-cards/ (markdown with a small front matter), embedded at build time.</summary>
public sealed class ContentCatalog
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().DisableHtml().Build();
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

    /// <summary>Markdown detail rendered as HTML, for places that show a card as a clinician sees it.</summary>
    public static string RenderMarkdown(string markdown) => Markdown.ToHtml(markdown, Pipeline);

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
        var body = text[(end + 5)..];
        return new ContentPage(Field("slug"), Field("title"), Field("audience"), Field("summary"), Field("updated"), body)
        {
            BodyHtml = Markdown.ToHtml(body, Pipeline),
        };
    }

    private static IEnumerable<(string, string)> ReadEmbedded()
    {
        var assembly = typeof(ContentCatalog).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("cds-cards/", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            yield return (name, reader.ReadToEnd());
        }
    }

    /// <summary>A whole, plain, readable page: no script, works in any browser and in an EHR's embedded viewer.</summary>
    public string RenderPage(ContentPage page, string baseUrl)
    {
        var e = (string s) => WebUtility.HtmlEncode(s);
        var nav = string.Join("", Pages.Select(p => $"<li><a href=\"{e(baseUrl)}/content/{e(p.Slug)}\">{e(p.Title)}</a></li>"));
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{e(page.Title)}} · CdsMitral</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
            h1{font-size:1.6rem} .note{border-left:4px solid #b35900;background:#fff6ec;padding:.5rem 1rem}
            .meta{color:#555;font-size:.9rem} nav{margin-top:3rem;border-top:1px solid #ccc;font-size:.9rem}
            table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.25rem .5rem}
            </style></head>
            <body><main>
            <p class="meta">CdsMitral · {{e(page.Audience)}} · updated {{e(page.Updated)}}</p>
            <h1>{{e(page.Title)}}</h1>
            <p class="note">For clinical reference; not a substitute for clinical judgement.</p>
            {{page.BodyHtml}}
            </main>
            <nav><p>Other pages</p><ul>{{nav}}</ul></nav>
            </body></html>
            """;
    }
}
