using CdsMitral.Content;
using CdsMitral.Navigator;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Navigator.Pages;
using Microsoft.AspNetCore.Components;

namespace CdsMitral.Service.Navigator;

/// <summary>
/// The Navigator's HTML pages, as whole documents: Razor components in Pages/, rendered on the server by
/// <see cref="PageRenderer"/>, so everything that comes from a record, a launch or a user is HTML-encoded by Razor; no
/// script and no inline style (the one stylesheet is served at <see cref="StylesheetPath"/>, so
/// <see cref="ContentSecurityPolicy"/> can forbid both); forms POST; every input has a label; radio groups sit in a
/// fieldset with a legend, so the pages work from the keyboard and with a screen reader.
/// </summary>
public static class NavigatorPages
{
    public const string StylesheetPath = "/navigator/navigator.css";

    /// <summary>The policy for these pages: the served stylesheet only, no script, forms to the service only.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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

    private static readonly PageRenderer Renderer = PageRenderer.Default;

    /// <summary>The hidden antiforgery input, encoded: pass its result as <c>antiforgeryField</c>. Written here rather than
    /// by a component because its exact form, <c>&lt;input type="hidden" name=".." value=".."&gt;</c>, is what a client
    /// scrapes for the token (the renderer writes void elements as <c>&lt;input ... /&gt;</c>); so these two values are
    /// the only ones on the Navigator's pages encoded by hand, with the renderer's own encoder.</summary>
    public static string AntiforgeryInput(string fieldName, string token) =>
        $"<input type=\"hidden\" name=\"{PageEncoder.Instance.Encode(fieldName)}\" value=\"{PageEncoder.Instance.Encode(token)}\">";

    /// <summary>One step: what the record shows (with dates, sources and flags), what is asked, the form, what the step
    /// concluded, its content page and evidence.</summary>
    /// <param name="formAction">Where the form posts; the post carries <c>step</c> and <c>go</c> (next or previous).</param>
    /// <param name="antiforgeryField">Markup of the hidden antiforgery input, from <see cref="AntiforgeryInput"/>.</param>
    public static string Step(PathwayView view, string stepId, string formAction, string antiforgeryField, NavigatorLinks? links = null,
        PatientBanner? patient = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        var step = view.Step(stepId) ?? throw new ArgumentException($"No step '{stepId}'.", nameof(stepId));
        return Renderer.Render<NavigatorStep>(new Dictionary<string, object?>
        {
            [nameof(NavigatorStep.View)] = view,
            [nameof(NavigatorStep.Step)] = step,
            [nameof(NavigatorStep.FormAction)] = formAction,
            // Markup from AntiforgeryInput, which encoded the field name and token.
            [nameof(NavigatorStep.AntiforgeryField)] = new MarkupString(antiforgeryField),
            [nameof(NavigatorStep.Links)] = links ?? new NavigatorLinks(),
            [nameof(NavigatorStep.Patient)] = patient,
        });
    }

    /// <summary>The result: where the patient stands, why, what the team must still confirm, the answers as attested, and
    /// the way on to the referral summary, the patient page and (when the scopes allow) the write-back.</summary>
    /// <param name="writeBackField">Antiforgery markup for the write-back form, from <see cref="AntiforgeryInput"/>; null when
    /// the granted scopes do not allow write-back.</param>
    /// <param name="notice">Said instead of the write-back when there is none (an open FHIR server).</param>
    public static string Result(PathwayView view, NavigatorLinks? links = null, string? writeBackField = null, string? notice = null,
        PatientBanner? patient = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        return Renderer.Render<NavigatorResult>(new Dictionary<string, object?>
        {
            [nameof(NavigatorResult.View)] = view,
            [nameof(NavigatorResult.Links)] = links ?? new NavigatorLinks(),
            // Markup from AntiforgeryInput, which encoded the field name and token.
            [nameof(NavigatorResult.WriteBackField)] = writeBackField is null ? null : new MarkupString(writeBackField),
            [nameof(NavigatorResult.Notice)] = notice,
            [nameof(NavigatorResult.Patient)] = patient,
        });
    }

    /// <summary>The printable summary for the Heart Valve Team: every value with its source and date, the clinician's
    /// answers marked as attested by them, and the result.</summary>
    public static string ReferralSummary(PathwayView view, NavigatorAnswers answers, string patientLabel, NavigatorLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(answers);
        return Renderer.Render<NavigatorSummary>(new Dictionary<string, object?>
        {
            [nameof(NavigatorSummary.View)] = view,
            [nameof(NavigatorSummary.Answers)] = answers,
            [nameof(NavigatorSummary.PatientLabel)] = patientLabel,
            [nameof(NavigatorSummary.Links)] = links ?? new NavigatorLinks(),
        });
    }

    /// <summary>The plain-language page a clinician can give the patient, the one that fits the result (decision 29): with
    /// the emergency advice and the patient banner, not the clinician's note, and printable.</summary>
    public static string PatientPage(PathwayResult result, NavigatorLinks? links = null) =>
        Renderer.Render<NavigatorPatientPage>(new Dictionary<string, object?>
        {
            [nameof(NavigatorPatientPage.Content)] = ContentCatalog.Embedded.Get(NavigatorPathway.PatientPageOf(result)),
            [nameof(NavigatorPatientPage.Links)] = links ?? new NavigatorLinks(),
        });

    /// <summary>After the write-back: what the EHR saved, and the way back to the result and the summary.</summary>
    public static string Saved(bool withReferral, NavigatorLinks? links = null) =>
        Renderer.Render<NavigatorSaved>(new Dictionary<string, object?>
        {
            [nameof(NavigatorSaved.WithReferral)] = withReferral,
            [nameof(NavigatorSaved.Links)] = links ?? new NavigatorLinks(),
        });

    /// <summary>A clear page for what went wrong (a refused launch, an expired session), with no detail of tokens.</summary>
    public static string Problem(string title, string message, NavigatorLinks? links = null) =>
        Renderer.Render<NavigatorProblem>(new Dictionary<string, object?>
        {
            [nameof(NavigatorProblem.Title)] = title,
            [nameof(NavigatorProblem.Message)] = message,
            [nameof(NavigatorProblem.Links)] = links ?? new NavigatorLinks(),
        });
}
