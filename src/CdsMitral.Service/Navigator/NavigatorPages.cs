using System.Net;
using System.Text;
using CdsMitral.Content;
using CdsMitral.Navigator;

namespace CdsMitral.Service.Navigator;

/// <summary>Where the Navigator's pages point. The defaults are the routes nav-launch maps; a host behind a path base
/// sets <see cref="Base"/>.</summary>
public sealed record NavigatorLinks(string Base = "")
{
    public string StepPrefix { get; init; } = "/navigator/step/";
    public string ResultPath { get; init; } = "/navigator/result";
    public string SummaryPath { get; init; } = "/navigator/summary";
    public string PatientPagePath { get; init; } = "/navigator/patient";
    public string WriteBackPath { get; init; } = "/navigator/write-back";

    public string Stylesheet => Base + NavigatorPages.StylesheetPath;
    public string Step(string stepId) => Base + StepPrefix + Uri.EscapeDataString(stepId);
    public string Result => Base + ResultPath;
    public string Summary => Base + SummaryPath;
    public string PatientPage => Base + PatientPagePath;
    public string WriteBack => Base + WriteBackPath;
    public string Content(string slug) => $"{Base}/content/{Uri.EscapeDataString(slug)}";
}

/// <summary>
/// The Navigator's HTML pages, as whole documents. Everything that comes from a record, a launch or a user is
/// HTML-encoded where it is written (<see cref="E"/>); no script and no inline style (the one stylesheet is served at
/// <see cref="StylesheetPath"/>, so <see cref="ContentSecurityPolicy"/> can forbid both); forms POST; every input has a
/// label; radio groups sit in a fieldset with a legend, so the pages work from the keyboard and with a screen reader.
/// </summary>
public static class NavigatorPages
{
    public const string StylesheetPath = "/navigator/navigator.css";

    /// <summary>The policy for these pages: the served stylesheet only, no script, forms to the service only.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly ContentCatalog Catalog = ContentCatalog.Embedded;

    /// <summary>The pages' only style, served at <see cref="StylesheetPath"/> as text/css. Readable from 400 px up (tables
    /// stack on narrow screens), visible focus, status shown in words as well as colour, and a print layout.</summary>
    public const string Stylesheet = """
        :root{--ink:#1b1b1b;--muted:#4a4a4a;--line:#c8c8c8;--link:#0b4f8a;--flag:#8a3b00;--flagbg:#fff3e6;--ok:#1e5e2a}
        *{box-sizing:border-box}
        body{font-family:system-ui,sans-serif;color:var(--ink);background:#fff;line-height:1.5;margin:0;font-size:1rem}
        header,main,footer{max-width:48rem;margin:0 auto;padding:0 1rem}
        a{color:var(--link)} a:focus,button:focus,input:focus{outline:3px solid #1a73e8;outline-offset:2px}
        .skip{position:absolute;left:-999px} .skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
        .brand{color:var(--muted);font-size:.9rem;margin:.75rem 0}
        .patient-banner{background:#eef3f8;border:1px solid var(--line);border-radius:4px;padding:.4rem .75rem;margin:.5rem 0}
        h1{font-size:1.45rem;line-height:1.25} h2{font-size:1.15rem;margin-top:1.75rem}
        ol.steps{display:flex;flex-wrap:wrap;gap:.25rem .75rem;padding:0;margin:.5rem 0;list-style:none;font-size:.9rem}
        ol.steps a[aria-current]{font-weight:700;color:var(--ink)}
        .note{border-left:4px solid #7a4a00;background:#fff6ec;padding:.5rem .75rem}
        .emergency{border:2px solid #a10000;border-radius:4px;padding:.25rem 1rem;margin:1rem 0} .emergency h2{margin-top:.5rem;color:#a10000}
        ul.values{list-style:none;padding:0} ul.values li{border:1px solid var(--line);border-radius:4px;padding:.5rem .75rem;margin:.5rem 0}
        ul.values li.flagged{border-color:var(--flag);background:var(--flagbg)}
        .name{font-weight:600} .value{font-weight:700} .meta{color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
        .status{display:inline-block;font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em;padding:0 .35rem;border:1px solid currentColor;border-radius:3px}
        .status.flag{color:var(--flag)} .status.fine{color:var(--ok)}
        fieldset{border:1px solid var(--line);border-radius:4px;margin:1rem 0;padding:.5rem .75rem}
        legend{font-weight:600;padding:0 .25rem} .hint{color:var(--muted);font-size:.9rem;margin:.25rem 0}
        .option{display:flex;align-items:flex-start;gap:.5rem;padding:.3rem 0} .option input{width:1.25rem;height:1.25rem;margin-top:.15rem;flex:none}
        .actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1.25rem 0}
        button{font:inherit;min-height:2.75rem;padding:.4rem 1rem;border:2px solid var(--link);border-radius:4px;background:var(--link);color:#fff;cursor:pointer}
        button.secondary{background:#fff;color:var(--link)}
        .result{border:2px solid var(--link);border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
        .evidence{color:var(--muted);font-size:.95rem}
        table{border-collapse:collapse;width:100%;font-size:.95rem} th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        th{background:#f2f2f2}
        @media (max-width:40rem){table,thead,tbody,tr,th,td{display:block} thead{position:absolute;left:-9999px} tr{border:1px solid var(--line);margin:.5rem 0}
          td{border:0;border-bottom:1px solid #eee} td::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted)}}
        @media print{header nav,.actions,.skip,.no-print{display:none} body{font-size:11pt} a{color:var(--ink);text-decoration:none}
          .result,ul.values li,tr{break-inside:avoid}}
        """;

    /// <summary>Encodes text for HTML content and double-quoted attributes.</summary>
    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>The hidden antiforgery input, encoded: pass its result as <c>antiforgeryField</c>.</summary>
    public static string AntiforgeryInput(string fieldName, string token) =>
        $"<input type=\"hidden\" name=\"{E(fieldName)}\" value=\"{E(token)}\">";

    private static string Page(string title, string body, NavigatorLinks links, PathwayView? view = null, string? currentStep = null,
        PatientBanner? patient = null)
    {
        var nav = (patient?.Html() ?? "") + (view is null ? "" : StepNav(view, links, currentStep));
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{E(title)}} · Secondary MR Navigator</title>
            <link rel="stylesheet" href="{{E(links.Stylesheet)}}"></head>
            <body>
            <a class="skip" href="#main">Skip to the content</a>
            <header><p class="brand">CdsMitral · Secondary MR Intervention Navigator</p>{{nav}}</header>
            <main id="main">
            {{body}}
            </main>
            <footer><p class="note">Decision support for the clinician and the Heart Valve Team: it frames considerations and is not a
            substitute for clinical judgement.</p></footer>
            </body></html>
            """;
    }

    private static string StepNav(PathwayView view, NavigatorLinks links, string? current)
    {
        var items = new StringBuilder();
        foreach (var (step, n) in view.Steps.Select((s, i) => (s, i + 1)))
        {
            items.Append($"<li><a href=\"{E(links.Step(step.Id))}\"{(step.Id == current ? " aria-current=\"step\"" : "")}>{n}. {E(step.Title)}</a></li>");
        }
        items.Append($"<li><a href=\"{E(links.Result)}\"{(current == "result" ? " aria-current=\"step\"" : "")}>Result</a></li>");
        return $"<nav aria-label=\"Pathway steps\"><ol class=\"steps\">{items}</ol></nav>";
    }

    private static string StatusWord(ValueStatus status) => status switch
    {
        ValueStatus.Current => "current",
        ValueStatus.Stale => "stale",
        ValueStatus.Missing => "missing",
        ValueStatus.NotUsable => "not usable",
        ValueStatus.Conflicting => "conflicting",
        ValueStatus.Presumed => "presumed",
        _ => "context only",
    };

    private static string StatusBadge(PrefilledValue v) =>
        $"<span class=\"status {(v.IsFlagged || v.Status == ValueStatus.Presumed ? "flag" : "fine")}\">{E(StatusWord(v.Status))}</span>";

    private static string ValueList(IReadOnlyList<PrefilledValue> values, bool asked)
    {
        if (values.Count == 0)
        {
            return asked ? "<p>The record holds nothing for this step; it is answered below.</p>" : "<p>Nothing on record for this step.</p>";
        }
        var html = new StringBuilder("<ul class=\"values\">");
        foreach (var v in values)
        {
            html.Append($"<li{(v.IsFlagged ? " class=\"flagged\"" : "")}><span class=\"name\">{E(v.Name)}</span>: <span class=\"value\">{E(v.Value)}</span> {StatusBadge(v)}")
                .Append($"<br><span class=\"meta\">{(v.DateText.Length > 0 ? $"Date {E(v.DateText)}" : "Date not available")} · Source {(v.Source.Length > 0 ? E(v.Source) : "none")}</span>")
                .Append(v.Note is { Length: > 0 } note ? $"<br><span class=\"meta\">{E(note)}</span>" : "")
                .Append("</li>");
        }
        return html.Append("</ul>").ToString();
    }

    private static string Question(StepQuestion q)
    {
        var id = q.Question.LinkId;
        var hint = q.Suggested is null ? "" : $"<p class=\"hint\" id=\"{E(id)}-hint\">Suggested by the record: {E(q.SuggestedBecause)}. It counts only once you choose it.</p>";
        var options = new StringBuilder();
        foreach (var o in q.Question.Options)
        {
            var optionId = $"{id}-{o.Code}";
            options.Append($"<div class=\"option\"><input type=\"radio\" id=\"{E(optionId)}\" name=\"{E(id)}\" value=\"{E(o.Code)}\"{(q.Answer == o.Code ? " checked" : "")}>")
                .Append($"<label for=\"{E(optionId)}\">{E(o.Display)}{(q.Suggested == o.Code ? " (on record)" : "")}</label></div>");
        }
        options.Append($"<div class=\"option\"><input type=\"radio\" id=\"{E(id)}-none\" name=\"{E(id)}\" value=\"\"{(q.Answer is null ? " checked" : "")}>")
            .Append($"<label for=\"{E(id)}-none\">Not answered yet</label></div>");
        return $"<fieldset{(hint.Length > 0 ? $" aria-describedby=\"{E(id)}-hint\"" : "")}><legend>{E(q.Question.Text)}</legend>{hint}{options}</fieldset>";
    }

    private static string ReadMore(string slug, NavigatorLinks links) =>
        $"<a href=\"{E(links.Content(slug))}\">{E(Catalog.Find(slug)?.Title ?? slug)}</a>";

    /// <summary>One step: what the record shows (with dates, sources and flags), what is asked, the form, what the step
    /// concluded, its content page and evidence.</summary>
    /// <param name="formAction">Where the form posts; the post carries <c>step</c> and <c>go</c> (next or previous).</param>
    /// <param name="antiforgeryField">Markup of the hidden antiforgery input, from <see cref="AntiforgeryInput"/>.</param>
    public static string Step(PathwayView view, string stepId, string formAction, string antiforgeryField, NavigatorLinks? links = null,
        PatientBanner? patient = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        links ??= new NavigatorLinks();
        var step = view.Step(stepId) ?? throw new ArgumentException($"No step '{stepId}'.", nameof(stepId));
        var number = view.Steps.ToList().IndexOf(step) + 1;
        var questions = string.Concat(step.Questions.Select(Question));
        var previous = view.PreviousStepId(stepId) is null ? "" : "<button type=\"submit\" name=\"go\" value=\"previous\" class=\"secondary\">Previous step</button>";
        var next = view.NextStepId(stepId) is null ? "Save and see the result" : "Save and continue";
        var body = $"""
            <h1>Step {number} of {view.Steps.Count}: {E(step.Title)}</h1>
            <section aria-labelledby="record"><h2 id="record">From the record</h2>{ValueList(step.Values, step.Questions.Count > 0)}</section>
            <section aria-labelledby="asked"><h2 id="asked">{(step.Questions.Count > 0 ? "What the record cannot tell" : "Nothing to ask here")}</h2>
            <p>{E(step.Asks)}</p>
            <form method="post" action="{E(formAction)}">{antiforgeryField}<input type="hidden" name="step" value="{E(step.Id)}">
            {questions}
            <div class="actions">{previous}<button type="submit" name="go" value="next">{next}</button></div>
            </form></section>
            <section aria-labelledby="finding"><h2 id="finding">This step</h2><p>{E(step.Finding)}</p>
            <p>Read more: {ReadMore(step.ContentSlug, links)}</p><p class="evidence"><strong>Basis:</strong> {E(step.Evidence)}</p></section>
            <p class="no-print">Where the patient stands so far: <a href="{E(links.Result)}">{E(view.Outcome.Title)}</a></p>
            """;
        return Page(step.Title, body, links, view, step.Id, patient);
    }

    private static string List(string heading, string id, IReadOnlyList<string> items) =>
        items.Count == 0 ? "" : $"<h2 id=\"{id}\">{E(heading)}</h2><ul>{string.Concat(items.Select(i => $"<li>{E(i)}</li>"))}</ul>";

    private static string Outcome(PathwayView view, NavigatorLinks links)
    {
        var o = view.Outcome;
        return $"""
            <div class="result"><h2 id="result">{E(o.Title)}</h2><p>{E(o.Wording)}</p></div>
            {List("Because", "because", o.Because)}
            {List("For the Heart Valve Team to weigh", "notes", o.Notes)}
            {List("Still to confirm by the Heart Valve Team", "confirm", o.StillToConfirm)}
            <p>Read more: {string.Join(" · ", o.ContentSlugs.Select(s => ReadMore(s, links)))}</p>
            <p class="evidence"><strong>Basis:</strong> {E(o.Evidence)}</p>
            """;
    }

    private static string AttestedTable(PathwayView view) =>
        view.Attested.Count == 0
            ? "<p>No answers given yet.</p>"
            : "<table><thead><tr><th scope=\"col\">Question</th><th scope=\"col\">Answer</th><th scope=\"col\">Attested</th></tr></thead><tbody>"
              + string.Concat(view.Attested.Select(a =>
                  $"<tr><td data-label=\"Question\">{E(a.Question)}</td><td data-label=\"Answer\">{E(a.Answer)}</td><td data-label=\"Attested\">{E(a.Provenance)}</td></tr>"))
              + "</tbody></table>";

    /// <summary>The result: where the patient stands, why, what the team must still confirm, the answers as attested, and
    /// the way on to the referral summary, the patient page and (when the scopes allow) the write-back.</summary>
    /// <param name="writeBackField">Antiforgery markup for the write-back form; null when the granted scopes do not allow write-back.</param>
    /// <param name="notice">Said instead of the write-back when there is none (an open FHIR server).</param>
    public static string Result(PathwayView view, NavigatorLinks? links = null, string? writeBackField = null, string? notice = null,
        PatientBanner? patient = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        links ??= new NavigatorLinks();
        // Decision 26: each button says what it writes. Where the result advises a referral, proposing it comes first; elsewhere
        // it is offered only as an explicit choice, with the reason it is not the advice.
        var propose = $"""<button type="submit" name="propose" value="yes"{(NavigatorOutputs.ProposesEvaluation(view.Result) ? "" : " class=\"secondary\"")}>{E(NavigatorOutputs.SaveAndProposeLabel)}</button>""";
        var answersOnly = $"""<button type="submit" name="propose" value="no"{(NavigatorOutputs.ProposesEvaluation(view.Result) ? " class=\"secondary\"" : "")}>{E(NavigatorOutputs.SaveAnswersLabel)}</button>""";
        var writeBack = writeBackField is null ? notice is null ? "" : $"""<p class="note">{E(notice)}</p>""" : $"""
            <form method="post" action="{E(links.WriteBack)}" class="no-print">{writeBackField}
            <h2 id="save">Save to the EHR</h2>
            {(NavigatorOutputs.ProposesEvaluation(view.Result) ? "" : $"<p>This result does not advise a Heart Valve Team referral. Propose one only if you judge it right for this patient.</p>")}
            <div class="actions">{(NavigatorOutputs.ProposesEvaluation(view.Result) ? propose + answersOnly : answersOnly + propose)}</div></form>
            """;
        var body = $"""
            <h1>Where the patient stands</h1>
            {Outcome(view, links)}
            <h2 id="answers">Your answers</h2>{AttestedTable(view)}
            {List("Data notes", "data-notes", view.DataNotes)}
            <div class="actions no-print"><a href="{E(links.Summary)}">Heart Valve Team referral summary (printable)</a>
            <a href="{E(links.PatientPage)}">Page for the patient</a></div>
            {writeBack}
            """;
        return Page("Result", body, links, view, "result", patient);
    }

    /// <summary>The printable summary for the Heart Valve Team: every value with its source and date, the clinician's
    /// answers marked as attested by them, and the result.</summary>
    public static string ReferralSummary(PathwayView view, NavigatorAnswers answers, string patientLabel, NavigatorLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(answers);
        links ??= new NavigatorLinks();
        var rows = new StringBuilder();
        // A value two steps show (EROA under severity and context) is listed once, under the first.
        var shown = new HashSet<(string, string, string)>();
        foreach (var step in view.Steps)
        {
            foreach (var v in step.Values.Where(v => shown.Add((v.Name, v.Value, v.Source))))
            {
                rows.Append($"<tr><td data-label=\"Step\">{E(step.Title)}</td><td data-label=\"What\">{E(v.Name)}</td><td data-label=\"Value\">{E(v.Value)}{(v.Note is { Length: > 0 } n ? $" <span class=\"meta\">({E(n)})</span>" : "")}</td>")
                    .Append($"<td data-label=\"Date\">{(v.DateText.Length > 0 ? E(v.DateText) : "not available")}</td><td data-label=\"Source\">{(v.Source.Length > 0 ? E(v.Source) : "none")}</td><td data-label=\"Status\">{StatusBadge(v)}</td></tr>");
            }
        }
        var body = $"""
            <h1>Heart Valve Team referral summary</h1>
            <p>Patient: <strong>{E(patientLabel)}</strong> · prepared {E(CdsMitral.Fhir.FhirDate.Format(view.AsOf))} with the Secondary MR Intervention Navigator ·
            answers {E(answers.Provenance)}</p>
            {Outcome(view, links)}
            <h2 id="values">Values from the record</h2>
            <table><thead><tr><th scope="col">Step</th><th scope="col">What</th><th scope="col">Value</th><th scope="col">Date</th><th scope="col">Source</th><th scope="col">Status</th></tr></thead>
            <tbody>{rows}</tbody></table>
            <h2 id="answers">The clinician's answers (attested, not from the record)</h2>{AttestedTable(view)}
            {List("Data notes", "data-notes", view.DataNotes)}
            <p class="no-print"><a href="{E(links.Result)}">Back to the result</a> · print this page with your browser's Print command.</p>
            """;
        return Page("Heart Valve Team referral summary", body, links, view, "summary");
    }

    /// <summary>The plain-language page a clinician can give the patient, the one that fits the result (decision 29): with
    /// the emergency advice and the patient banner, not the clinician's note, and printable.</summary>
    public static string PatientPage(PathwayResult result, NavigatorLinks? links = null)
    {
        links ??= new NavigatorLinks();
        var page = Catalog.Get(NavigatorPathway.PatientPageOf(result));
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{E(page.Title)}}</title>
            <link rel="stylesheet" href="{{E(links.Stylesheet)}}"></head>
            <body>
            <a class="skip" href="#main">Skip to the content</a>
            <header><p class="brand">For the patient</p></header>
            <main id="main">
            <h1>{{E(page.Title)}}</h1>
            <p class="note">{{E(PatientAdvice.Banner)}}</p>
            {{PatientAdvice.Html}}
            {{page.BodyHtml}}
            <p class="no-print"><a href="{{E(links.Result)}}">Back to the result</a> · print this page with your browser's Print command.</p>
            </main>
            <footer><p class="note">{{E(PatientAdvice.Banner)}}</p></footer>
            </body></html>
            """;
    }

    /// <summary>After the write-back: what the EHR saved, and the way back to the result and the summary.</summary>
    public static string Saved(bool withReferral, NavigatorLinks? links = null)
    {
        links ??= new NavigatorLinks();
        var what = withReferral
            ? "The answers (a QuestionnaireResponse) and a proposal of a Heart Valve Team evaluation (a draft ServiceRequest) were"
            : "The answers (a QuestionnaireResponse) were";
        return Page("Saved to the EHR", $"""
            <h1>Saved to the EHR</h1><p>{what} saved to the patient's record.</p>
            <p><a href="{E(links.Result)}">Back to the result</a> · <a href="{E(links.Summary)}">Referral summary</a></p>
            """, links);
    }

    /// <summary>A clear page for what went wrong (a refused launch, an expired session), with no detail of tokens.</summary>
    public static string Problem(string title, string message, NavigatorLinks? links = null) =>
        Page(title, $"<h1>{E(title)}</h1><p>{E(message)}</p><p>Nothing was written to the record. Open the Navigator again from the card or the EHR's app list.</p>",
            links ?? new NavigatorLinks());
}
