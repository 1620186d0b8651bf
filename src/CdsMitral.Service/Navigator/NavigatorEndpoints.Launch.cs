using CdsMitral.Hooks;
using CdsMitral.Navigator;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hooks;
using CdsMitral.Snapshot;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

/// <summary>How a Navigator session starts: the SMART EHR launch (or a standalone one, or the Sandbox's open-server
/// launch), the library's callback, and the chart read as a hook would read it, kept with the token on the server.</summary>
public static partial class NavigatorEndpoints
{
    private static async Task<IResult> Launch(HttpContext http, NavigatorIssuers issuers, SmartDiscovery discovery, NavigatorSessions sessions,
        IOptions<NavigatorOptions> options, ILoggerFactory loggers)
    {
        var iss = http.Request.Query["iss"].FirstOrDefault();
        var launch = http.Request.Query["launch"].FirstOrDefault();
        if (string.IsNullOrEmpty(iss) && http.Request.Query["fhirServiceUrl"].FirstOrDefault() is { } openServer)
        {
            return await OpenServerLaunchAsync(http, openServer, http.Request.Query["patientId"].FirstOrDefault(), issuers, options.Value);
        }
        if (string.IsNullOrEmpty(iss))
        {
            return Problem(http, 400, "The launch names no EHR", "The Navigator was opened without an iss (the EHR's FHIR server). Open it from the card or the EHR's app list.");
        }
        if (issuers.Refusal(iss) is { } refusal)
        {
            // Refused before any connection: a link cannot send the Navigator (and later a code) to a server of its choosing.
            NavigatorLog.LaunchRefused(loggers.CreateLogger("CdsMitral.Navigator"), refusal);
            return Problem(http, 403, "This EHR is not allowed", $"The Navigator does not work with this FHIR server: {refusal}");
        }
        var (config, problem) = await discovery.DiscoverAsync(iss, http.RequestAborted);
        if (config is null)
        {
            return Problem(http, 502, "The EHR could not be reached", problem!);
        }
        var properties = new OAuthChallengeProperties { RedirectUri = Links.Step(StepIds.All[0]) };
        properties.Items[SmartOAuthHandler.IssItem] = iss;
        properties.Items[SmartOAuthHandler.AuthorizeItem] = config.AuthorizationEndpoint;
        properties.Items[SmartOAuthHandler.TokenItem] = config.TokenEndpoint;
        properties.Items[SmartOAuthHandler.LaunchIdItem] = await sessions.AddLaunchAsync(http.RequestAborted);
        if (launch is not null)
        {
            properties.Items[SmartOAuthHandler.LaunchItem] = launch;
        }
        properties.Scope = Scopes(options.Value.ReadAndWriteScope, standalone: launch is null);
        return Results.Challenge(properties, [SmartOAuthHandler.SchemeName]);
    }

    /// <summary>The scopes of an authorize request; a standalone launch (no launch parameter) asks the authorization server
    /// to let the clinician pick the patient.</summary>
    private static string[] Scopes(string scope, bool standalone) =>
        (standalone ? scope.Replace("launch ", "launch/patient ", StringComparison.Ordinal) : scope).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Decision 26: the authorization server refused the write scopes rather than grant fewer. The same launch is
    /// asked again for reading only (once), and the Navigator opens read-only, saying that saving is unavailable.</summary>
    private static async Task<bool> RetryReadOnlyAsync(RemoteFailureContext context, string? error)
    {
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<IOptions<NavigatorOptions>>().Value;
        if (error != "invalid_scope" || context.Properties is not { } failed || failed.Items.ContainsKey(SmartOAuthHandler.ReadOnlyItem)
            || string.IsNullOrWhiteSpace(options.WriteScope) || !failed.Items.TryGetValue(SmartOAuthHandler.IssItem, out var iss) || iss is null)
        {
            return false;
        }
        var properties = new OAuthChallengeProperties { RedirectUri = Links.Step(StepIds.All[0]) };
        foreach (var item in new[] { SmartOAuthHandler.IssItem, SmartOAuthHandler.AuthorizeItem, SmartOAuthHandler.TokenItem, SmartOAuthHandler.LaunchItem })
        {
            if (failed.Items.TryGetValue(item, out var value) && value is not null)
            {
                properties.Items[item] = value;
            }
        }
        properties.Items[SmartOAuthHandler.ReadOnlyItem] = "true";
        properties.Items[SmartOAuthHandler.LaunchIdItem] = await http.RequestServices.GetRequiredService<NavigatorSessions>().AddLaunchAsync(http.RequestAborted);
        properties.Scope = Scopes(options.Scope, standalone: !properties.Items.ContainsKey(SmartOAuthHandler.LaunchItem));
        await http.ChallengeAsync(SmartOAuthHandler.SchemeName, properties);
        context.HandleResponse();
        return true;
    }

    /// <summary>The CDS Hooks Sandbox's launch against an open FHIR server: it appends <c>fhirServiceUrl</c> and
    /// <c>patientId</c> to the link instead of <c>iss</c> and <c>launch</c>, and no one signs in. The chart is read without
    /// a token, only from a server the hooks could name as fhirServer, and nothing is ever written back.</summary>
    private static async Task<IResult> OpenServerLaunchAsync(HttpContext http, string fhirServer, string? patient, NavigatorIssuers issuers, NavigatorOptions options)
    {
        if (!options.AllowOpenServerLaunch)
        {
            return Problem(http, 403, "Open FHIR server launches are off",
                "This Navigator only opens through the EHR's SMART launch (iss and launch). Launches against an open FHIR server are turned off here.");
        }
        if (issuers.Refusal(fhirServer) is { } refusal)
        {
            NavigatorLog.LaunchRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CdsMitral.Navigator"), refusal);
            return Problem(http, 400, "This FHIR server is not allowed", $"The Navigator does not read this FHIR server: {refusal}");
        }
        if (!HookValidation.IsFhirId(patient))
        {
            return Problem(http, 400, "No patient in context", "The launch names no patient (patientId), or an id that is not a FHIR id.");
        }
        return await StartSessionAsync(http, fhirServer, patient, null, OpenServerUser);
    }

    /// <summary>How an open-server session read the chart, as the audit says it.</summary>
    public const string OpenServerAccess = "open FHIR server, no authorization";

    /// <summary>Who the answers are attested by when no one signed in.</summary>
    public const string OpenServerUser = "an unidentified user (open FHIR server, no sign-in)";

    /// <summary>The library's callback failed (state, correlation, consent, token): a page saying which, and no session.</summary>
    internal static async Task LaunchFailedAsync(RemoteFailureContext context)
    {
        var http = context.HttpContext;
        // A state is good once, even when this attempt failed before the exchange (another browser, declined consent).
        if (context.Properties?.Items.TryGetValue(SmartOAuthHandler.LaunchIdItem, out var id) == true)
        {
            await http.RequestServices.GetRequiredService<NavigatorSessions>().TakeLaunchAsync(id, http.RequestAborted);
        }
        var query = http.Request.Query;
        var error = context.Failure?.Data["error"] as string;
        if (await RetryReadOnlyAsync(context, error))
        {
            return;
        }
        var page = context.Failure switch
        {
            NavigatorLaunchException f => Problem(http, f.Status, f.Title, f.Message),
            _ when http.Items.ContainsKey(SmartOAuthHandler.ExchangeStarted) =>
                Problem(http, 401, "The EHR did not issue a token", "The EHR's authorization server refused to issue a token, or could not be reached."),
            _ when context.Properties is not null && error == "access_denied" =>
                Problem(http, 403, "The EHR did not grant access", "Access was declined at the EHR's sign-in."),
            _ when context.Properties is not null && error is not null =>
                Problem(http, 403, "The EHR did not grant access", $"The EHR's sign-in ended with the error '{error}'."),
            _ when context.Properties is not null && !query.ContainsKey("code") =>
                Problem(http, 400, "The EHR sent no authorization code", "The EHR's sign-in returned neither a code nor an error."),
            _ => Problem(http, 400, NavigatorLaunchException.NoLaunchTitle, NavigatorLaunchException.NoLaunchMessage),
        };
        await page.ExecuteAsync(http);
        context.HandleResponse();
    }

    /// <summary>The library exchanged the code: read the chart with the token, keep both on the server, and hand the browser
    /// an opaque session cookie. Nothing is signed in: the ticket stays in this request.</summary>
    internal static async Task LaunchSucceededAsync(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        context.HandleResponse();
        var grant = http.Items[typeof(SmartGrant)] as SmartGrant;
        var iss = context.Properties?.Items[SmartOAuthHandler.IssItem];
        var page = grant is null || iss is null
            ? Problem(http, 401, "The EHR did not issue a token", "The EHR's authorization server answered without a bearer access token.")
            : await StartSessionAsync(http, iss, grant);
        await page.ExecuteAsync(http);
    }

    private static Task<IResult> StartSessionAsync(HttpContext http, string iss, SmartGrant grant) =>
        grant.Patient is not { } patient || !HookValidation.IsFhirId(patient)
            ? Task.FromResult(Problem(http, 400, "No patient in context", "The EHR's token names no patient (or an id that is not a FHIR id)."))
            : StartSessionAsync(http, iss, patient, grant, grant.User ?? "the launching clinician");

    /// <summary>Reads the chart as a hook would (with the grant's token, or none on an open server), keeps it with the
    /// token on the server, and hands the browser an opaque session cookie.</summary>
    private static async Task<IResult> StartSessionAsync(HttpContext http, string iss, string patient, SmartGrant? grant, string user)
    {
        var services = http.RequestServices;
        var options = services.GetRequiredService<IOptions<NavigatorOptions>>().Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var lifetime = grant?.ExpiresIn is > 0 and var s ? TimeSpan.FromSeconds(Math.Min(s, options.SessionLifetime.TotalSeconds)) : options.SessionLifetime;
        var (snapshot, banner, problem) = await ReadChartAsync(http, iss, patient, grant?.AccessToken, grant?.Scope, user, now + lifetime);
        if (snapshot is null)
        {
            return problem!;
        }
        // An EHR that relays no appContext: the card that opened the session is inferred from the audit, and the record says so.
        var from = LaunchOrigin.From(grant?.AppContext)
            ?? await LaunchOrigin.InferAsync(services.GetService<AuditStore>(), patient, services.GetRequiredService<NavigatorIssuers>().Clients(iss), now,
                TimeSpan.FromDays(1), http.RequestAborted);
        var session = new NavigatorSession(iss, grant?.AccessToken, patient, grant?.Scope ?? "", user, now + lifetime, snapshot, NavigatorAnswers.None(user, now))
        {
            From = from,
            Encounter = HookValidation.IsFhirId(grant?.Encounter) ? grant!.Encounter : null,
            NeedPatientBanner = grant?.NeedPatientBanner,
            Patient = banner,
        };
        var id = await services.GetRequiredService<NavigatorSessions>().AddSessionAsync(session, http.RequestAborted);
        http.Response.Cookies.Append(SessionCookie, id, Cookie(http, lifetime));
        return Results.Redirect(Links.Step(StepIds.All[0]));
    }

    /// <summary>The chart through the hooks' gathering and snapshot, or the page that says why it could not be read.</summary>
    private static async Task<(ClinicalSnapshot? Snapshot, PatientBanner? Patient, IResult? Problem)> ReadChartAsync(HttpContext http, string iss, string patient, string? token,
        string? scope, string user, DateTimeOffset expires)
    {
        var services = http.RequestServices;
        var service = services.GetRequiredService<CdsServiceRegistry>().Find(CdsServices.PatientViewId)!;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var request = new HookRequest(Hook: "patient-view", FhirServer: iss,
            FhirAuthorization: token is null ? null : new FhirAuthorization(token, "Bearer", (long)(expires - now).TotalSeconds, scope, user, patient));
        var context = new HookContext(user, patient, null, [], null);
        var gathered = await services.GetRequiredService<InputGatherer>().GatherAsync(service, request, context, http.RequestAborted);
        var failed = gathered.Keys.Where(k => k.Source is KeySource.Failed or KeySource.NotAvailable).ToList();
        if (gathered.Queries.Any(q => q.Status is 401 or 403))
        {
            return (null, null, token is null
                ? Problem(http, 403, "The FHIR server is not open",
                    "The FHIR server asks for authorization, so the Navigator cannot read it without a sign-in. Open the Navigator through the EHR's SMART launch instead.")
                : Problem(http, 403, "The FHIR server refused the Navigator",
                    "The EHR's FHIR server refused to let the Navigator read this patient's record with the access it granted."));
        }
        if (gathered.MissingRequired(service).Any())
        {
            return (null, null, Problem(http, 502, "The patient's record could not be read",
                $"The FHIR server did not return {string.Join(", ", failed.Select(k => k.Key))}."));
        }
        return (services.GetRequiredService<SnapshotBuilder>().Build(gathered.Record, now), PatientBanner.From(gathered.Record), null);
    }

    private static CookieOptions Cookie(HttpContext http, TimeSpan lifetime)
    {
        var cookie = new CookieBuilder { MaxAge = lifetime > TimeSpan.Zero ? lifetime : null, IsEssential = true };
        NavigatorRegistration.NavigatorCookie(cookie, http.RequestServices.GetRequiredService<IOptions<NavigatorOptions>>().Value, SameSiteMode.Lax);
        return cookie.Build(http);
    }
}

internal static partial class NavigatorLog
{
    [LoggerMessage(60, LogLevel.Warning, "Navigator launch refused: {Reason:l}")]
    public static partial void LaunchRefused(ILogger logger, string reason);
}
