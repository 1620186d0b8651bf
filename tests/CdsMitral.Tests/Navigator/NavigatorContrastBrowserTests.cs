using System.Text.Json;
using CdsMitral.Navigator;
using CdsMitral.Service.Navigator;
using CdsMitral.Tests.Audit;
using CdsMitral.Tests.Samples;
using CdsMitral.Tests.Support;
using Microsoft.Playwright;

using static CdsMitral.Tests.Navigator.NavigatorFixtures;

namespace CdsMitral.Tests.Navigator;

/// <summary>
/// Colour contrast of the Navigator's pages, measured by Chromium on the styles it really computes (WCAG 2.2 §1.4.3 and
/// §1.4.11): every visible piece of text against the background it is painted on at least 4.5:1 (3:1 when large), and
/// every keyboard focus indicator at least 3:1 against what surrounds it. The pages are served from memory with their
/// stylesheet and CSP, at a laptop width and at an EHR side panel's 400 px.
/// </summary>
[Slow]
public sealed class NavigatorContrastBrowserTests(ITestOutputHelper output)
{
    private const string Origin = "https://navigator.test";

    /// <summary>Every text node's colour against its painted background: the element's own background and its ancestors',
    /// alpha-blended down to the page's white. Text hidden off-screen (the skip link before it has focus) is left out.</summary>
    private const string MeasureText = """
        () => {
          const parse = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
            const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
          const blend = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
            b: top.b * top.a + under.b * (1 - top.a), a: 1 });
          const lum = ({ r, g, b }) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
          const ratio = (x, y) => { const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p); return (hi + 0.05) / (lo + 0.05); };
          const background = el => { const layers = [];
            for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
              if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
            let bg = { r: 255, g: 255, b: 255, a: 1 }; for (const l of layers.reverse()) bg = blend(l, bg); return bg; };
          const check = (el, style, text, found) => {
            const bg = background(el); const fg = blend(parse(style.color), bg);
            const size = parseFloat(style.fontSize); const bold = parseInt(style.fontWeight, 10) >= 700;
            const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5; const r = ratio(fg, bg);
            found.push({ text: text.trim().slice(0, 40), tag: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''),
              ratio: Math.round(r * 100) / 100, need, color: style.color });
          };
          const found = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const seen = new Set();
          while (walker.nextNode()) {
            const el = walker.currentNode.parentElement;
            if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
            seen.add(el);
            const style = getComputedStyle(el); const box = el.getBoundingClientRect();
            if (style.visibility === 'hidden' || box.width === 0 || box.right <= 0) continue;
            check(el, style, walker.currentNode.textContent, found);
          }
          for (const el of document.body.querySelectorAll('*')) {
            const style = getComputedStyle(el, '::before');
            if (style.display !== 'none' && /^".+"$/.test(style.content)) check(el, style, style.content, found);
          }
          return JSON.stringify(found);
        }
        """;

    /// <summary>What the focused element shows: its outline, and the background around it.</summary>
    private const string MeasureFocus = """
        () => {
          const el = document.activeElement; if (!el || el === document.body) return null;
          const parse = c => { const m = /rgba?\(([^)]+)\)/.exec(c); const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
            return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
          const lum = ({ r, g, b }) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
          let around = { r: 255, g: 255, b: 255, a: 1 };
          for (let e = el.parentElement; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a >= 1) { around = c; break; } }
          const style = getComputedStyle(el); const outline = parse(style.outlineColor);
          const [hi, lo] = [lum(outline), lum(around)].sort((p, q) => q - p);
          return JSON.stringify({ tag: el.tagName.toLowerCase(), text: (el.textContent || el.getAttribute('name') || '').trim().slice(0, 40),
            style: style.outlineStyle, width: parseFloat(style.outlineWidth), ratio: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100 });
        }
        """;

    private sealed record TextContrast(string Text, string Tag, double Ratio, double Need, string Color);

    private sealed record FocusIndicator(string Tag, string Text, string Style, double Width, double Ratio);

    /// <summary>The pages a clinician meets: every step with values missing and flagged (nothing answered yet), every step
    /// answered with stale echo values, the result, the summary, the patient page and a problem page.</summary>
    private static IEnumerable<(string Name, string Html)> Pages()
    {
        foreach (var (sample, answers) in new[] { ("coapt-profile", None()), ("stale-echo", Full()), ("silent-primary-mr", Full()), ("coapt-gdmt-gap", None()) })
        {
            var view = NavigatorPathway.Evaluate(Sample(sample), answers, Now);
            foreach (var step in view.Steps)
            {
                yield return ($"{sample} step {step.Id}", NavigatorPages.Step(view, step.Id, "/navigator/step/" + step.Id, NavigatorPages.AntiforgeryInput("f", "t"), patient: Banner));
            }
            yield return ($"{sample} result", NavigatorPages.Result(view, writeBackField: NavigatorPages.AntiforgeryInput("f", "t"), patient: Banner));
            yield return ($"{sample} summary", NavigatorPages.ReferralSummary(view, answers, sample));
        }
        foreach (var result in Enum.GetValues<PathwayResult>())
        {
            yield return ($"patient page for {result}", NavigatorPages.PatientPage(result));
        }
        yield return ("problem", NavigatorPages.Problem("The launch was refused", "The EHR declined the request."));
        yield return ("saved", NavigatorPages.Saved(withReferral: true));
    }

    private static readonly PatientBanner Banner = new("p1", "Ada Lovelace", "1950-03-02", "female");

    /// <summary>Routes the origin to whatever page <paramref name="serving"/> returns, with the stylesheet and the CSP.</summary>
    private static Task<IAsyncDisposable> ServeAsync(IBrowserContext context, Func<string> serving) =>
        context.RouteAsync(Origin + "/**", route => route.FulfillAsync(route.Request.Url.EndsWith(NavigatorPages.StylesheetPath, StringComparison.Ordinal)
            ? new RouteFulfillOptions { ContentType = "text/css", Body = NavigatorPages.Stylesheet }
            : new RouteFulfillOptions
            {
                ContentType = "text/html; charset=utf-8",
                Body = serving(),
                Headers = new Dictionary<string, string> { ["Content-Security-Policy"] = NavigatorPages.ContentSecurityPolicy },
            }));

    /// <summary>axe-core (Deque's rules for WCAG 2.0-2.2 A and AA and best practice) finds nothing on any page: every step,
    /// result and summary of four samples, the patient page of every result, a problem page and the saved page.</summary>
    [Fact]
    public async Task AxeFindsNoAccessibilityViolationOnAnyNavigatorPage()
    {
        Requires.Chromium();
        var pages = Pages().ToList();
        var serving = "";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync();
        await ServeAsync(context, () => serving);
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        var passes = 0;
        foreach (var (name, html) in pages)
        {
            serving = html;
            await page.GotoAsync(Origin + "/navigator/page");
            var result = await Deque.AxeCore.Playwright.PageExtensions.RunAxe(page);
            passes += result.Passes.Length;
            violations.AddRange(result.Violations.Select(v => $"{name}: {v.Id} ({v.Impact}) {v.Help}: {string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))}"));
        }
        output.WriteLine($"{pages.Count} pages, {passes} rule passes, {violations.Count} violations");
        Assert.True(passes > pages.Count * 10, $"axe passed only {passes} rules over {pages.Count} pages: did it run?");
        Assert.True(violations.Count == 0, string.Join("\n", violations.Take(40)));
    }

    [Fact]
    public async Task EveryTextAndFocusIndicatorOnEveryNavigatorPageMeetsWcagContrastAtLaptopAndSidePanelWidths()
    {
        Requires.Chromium();
        var pages = Pages().ToList();
        var serving = "";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var failures = new List<string>();
        var measured = 0;
        var lowest = (Ratio: double.MaxValue, What: "");
        foreach (var width in new[] { 1280, 400 })
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = 900 } });
            await ServeAsync(context, () => serving);
            var page = await context.NewPageAsync();
            foreach (var (name, html) in pages)
            {
                serving = html;
                await page.GotoAsync(Origin + "/navigator/page");
                Assert.Equal("rgb(27, 27, 27)", await page.EvalOnSelectorAsync<string>("body", "b => getComputedStyle(b).color")); // the stylesheet applied
                foreach (var text in JsonSerializer.Deserialize<List<TextContrast>>(await page.EvaluateAsync<string>(MeasureText), Web)!)
                {
                    measured++;
                    if (text.Ratio < lowest.Ratio)
                    {
                        lowest = (text.Ratio, $"{width}px {name}: \"{text.Text}\" ({text.Tag})");
                    }
                    if (text.Ratio < text.Need)
                    {
                        failures.Add($"{width}px {name}: \"{text.Text}\" ({text.Tag}, {text.Color}) {text.Ratio}:1 < {text.Need}:1");
                    }
                }
                // Tab through every focusable element once: each must show an outline that stands out from its surroundings.
                for (var tab = 0; tab < 80; tab++)
                {
                    await page.Keyboard.PressAsync("Tab");
                    if (await page.EvaluateAsync<string?>(MeasureFocus) is not { } json)
                    {
                        break;
                    }
                    var focus = JsonSerializer.Deserialize<FocusIndicator>(json, Web)!;
                    if (focus.Style == "none" || focus.Width < 2 || focus.Ratio < 3)
                    {
                        failures.Add($"{width}px {name}: focus on {focus.Tag} \"{focus.Text}\" shows {focus.Style} {focus.Width}px at {focus.Ratio}:1");
                    }
                }
            }
        }
        output.WriteLine($"{measured} texts measured; the lowest contrast is {lowest.Ratio}:1, {lowest.What}");
        Assert.True(measured > 500, $"only {measured} texts measured");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct().Take(40)));
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
