using System.Text;
using CdsMitral.Navigator;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

/// <summary>
/// The Navigator as a backend-for-frontend: the SMART EHR launch (and a standalone one), the callback, the pathway pages
/// and the write-back. The access token and the patient live in <see cref="NavigatorSessions"/>; the browser holds only
/// opaque random ids in HttpOnly cookies.
/// </summary>
public static partial class NavigatorEndpoints
{
    public const string SessionCookie = "cdsmitral-nav";
    public const string CallbackPath = "/navigator/callback";
    public const string AuditKind = "navigator";

    private static readonly NavigatorLinks Links = new();

    public static IEndpointRouteBuilder MapNavigatorEndpoints(this IEndpointRouteBuilder app)
    {
        var nav = app.MapGroup("/navigator").ExcludeFromDescription();
        // Opens a session: the SMART launch (or the Sandbox's open-server launch) is what proves who may.
        nav.MapGet("/launch", Launch).Public("starts a SMART launch; the EHR's authorization server decides who may, and the iss must be a registered FHIR server");
        nav.MapGet(NavigatorPages.StylesheetPath["/navigator".Length..], (HttpContext http) =>
        {
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Text(NavigatorPages.Stylesheet, "text/css; charset=utf-8");
        }).Public("the Navigator's stylesheet, the same for everyone");

        // Everything else belongs to a session: its cookie names one this service holds, or the answer is the 401 page.
        var session = nav.MapGroup("").RequireAuthorization(NavigatorSessionAuthentication.Policy);
        session.MapGet("/step/{id}", (string id, HttpContext http, IAntiforgery antiforgery, TimeProvider time) =>
        {
            var session = http.NavigatorSession();
            var view = View(session, time);
            if (view.Step(id) is null)
            {
                return Problem(http, 404, "No such step", "The Navigator has no step of that name.");
            }
            var tokens = antiforgery.GetAndStoreTokens(http);
            return Html(http, NavigatorPages.Step(view, id, Links.Step(id), NavigatorPages.AntiforgeryInput(tokens.FormFieldName, tokens.RequestToken!), Links, session.Banner));
        });
        session.MapPost("/step/{id}", async (string id, HttpContext http, NavigatorSessions sessions, TimeProvider time) =>
        {
            var session = http.NavigatorSession();
            var view = View(session, time);
            if (view.Step(id) is null)
            {
                return Problem(http, 404, "No such step", "The Navigator has no step of that name.");
            }
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            session.Answers = NavigatorForms.Read(form, session.Answers, time.GetUtcNow());
            await sessions.SaveAsync(http.Request.Cookies[SessionCookie], session, http.RequestAborted);
            var target = NavigatorForms.Target(form, View(session, time), id);
            return Results.Redirect(target is null ? Links.Result : Links.Step(target));
        }).RequireFormFromThisSession("Open the step again and resend it.");
        session.MapGet("/result", async (HttpContext http, NavigatorSessions sessions, IAntiforgery antiforgery, AuditWriter audit, TimeProvider time) =>
        {
            var session = http.NavigatorSession();
            var view = View(session, time);
            if (await Audit(session, view, audit, time))
            {
                await sessions.SaveAsync(http.Request.Cookies[SessionCookie], session, http.RequestAborted);
            }
            var tokens = antiforgery.GetAndStoreTokens(http);
            var writeBack = session.MayWriteBack ? NavigatorPages.AntiforgeryInput(tokens.FormFieldName, tokens.RequestToken!) : null;
            return Html(http, NavigatorPages.Result(view, Links, writeBack,
                session.OpenServer ? "This session read an open FHIR server without authorization: nothing is saved to it. Print the referral summary instead."
                : !session.MayWriteBack ? "Saving to the EHR is unavailable: the EHR granted this session read access only. Print the referral summary instead."
                : null, session.Banner));
        });
        session.MapGet("/summary", (HttpContext http, TimeProvider time) =>
        {
            var session = http.NavigatorSession();
            return Html(http, NavigatorPages.ReferralSummary(View(session, time), session.Answers, session.Patient?.Text ?? $"Patient/{session.PatientId}", Links));
        });
        session.MapGet("/patient", (HttpContext http, TimeProvider time) =>
            Html(http, NavigatorPages.PatientPage(View(http.NavigatorSession(), time).Result, Links)));
        session.MapPost("/write-back", WriteBack).RequireFormFromThisSession("Open the result again and resend it.");
        return app;
    }

    /// <summary>A form post must carry the antiforgery token this session's page was given. The framework's antiforgery
    /// middleware checks it (the endpoint asks for that by its metadata); a post without it gets the Navigator's page.</summary>
    private static RouteHandlerBuilder RequireFormFromThisSession(this RouteHandlerBuilder endpoint, string reopen) => endpoint
        .WithMetadata(new RequireAntiforgeryTokenAttribute())
        .AddEndpointFilter(async (context, next) =>
            context.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
                ? await next(context)
                : Problem(context.HttpContext, 400, "The form could not be accepted", $"The form was not sent from this Navigator session. {reopen}"));

    private static PathwayView View(NavigatorSession session, TimeProvider time) =>
        NavigatorPathway.Evaluate(session.Snapshot, session.Answers, time.GetUtcNow());

    public static IResult Problem(HttpContext http, int status, string title, string message) =>
        Html(http, NavigatorPages.Problem(title, message, Links), status);

    private static IResult Html(HttpContext http, string page, int status = 200)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = http.RequestServices.GetRequiredService<IOptions<NavigatorOptions>>().Value.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(page, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}

