using System.Net.Http.Headers;
using System.Text;
using CdsMitral.Navigator;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Fhir;

namespace CdsMitral.Service.Navigator;

/// <summary>The write-back: the session's answers (and, when the clinician asked for it, a draft referral) sent to the
/// EHR's FHIR server as one transaction, with the session's own token, and audited whatever the EHR made of it.</summary>
public static partial class NavigatorEndpoints
{
    private static async Task<IResult> WriteBack(HttpContext http, NavigatorSessions sessions, IHttpClientFactory clients, AuditWriter audit, TimeProvider time)
    {
        var session = http.NavigatorSession();
        if (session.OpenServer)
        {
            return Problem(http, 403, "Nothing is saved to an open FHIR server",
                "This session reads an open FHIR server without authorization, so the Navigator writes nothing to it. Print the referral summary instead.");
        }
        if (!session.MayWriteBack)
        {
            return Problem(http, 403, "The EHR did not grant write-back",
                "The EHR did not grant the Navigator permission to create a QuestionnaireResponse and a ServiceRequest, so nothing was saved. Print the referral summary instead.");
        }
        var view = View(session, time);
        await Audit(session, view, audit, time);
        // Decision 26: a proposal of a Heart Valve Team evaluation is written only when the clinician pressed the button that says so.
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var propose = form["propose"] == "yes";
        var bundle = NavigatorOutputs.WriteBackBundle(session.PatientId, session.Answers, view, Guid.NewGuid, propose);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(session.Iss.TrimEnd('/') + "/"))
        {
            Content = new StringContent(bundle.ToJsonString(), Encoding.UTF8, "application/fhir+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        WriteBackOutcome outcome;
        try
        {
            using var response = await clients.CreateClient(FhirFetcher.HttpClientName).SendAsync(request, http.RequestAborted);
            outcome = response.IsSuccessStatusCode
                ? new WriteBackOutcome(WriteBackOutcome.Saved, (int)response.StatusCode, WriteBackOutcome.CreatedIn(await response.Content.ReadAsStringAsync(http.RequestAborted)))
                : new WriteBackOutcome(WriteBackOutcome.Refused, (int)response.StatusCode);
        }
        catch (HttpRequestException)
        {
            outcome = new WriteBackOutcome(WriteBackOutcome.Unreachable);
        }
        session.WrittenBack = outcome;
        await AuditWriteBack(session, view, outcome, propose, audit, time);
        await sessions.SaveAsync(http.Request.Cookies[SessionCookie], session, http.RequestAborted);
        if (outcome.Outcome == WriteBackOutcome.Unreachable)
        {
            return Problem(http, 502, "The EHR did not save the answers", "The EHR's FHIR server could not be reached.");
        }
        if (outcome.Outcome == WriteBackOutcome.Refused)
        {
            return Problem(http, 502, "The EHR did not save the answers", $"The EHR's FHIR server refused the write-back (HTTP {outcome.Status}).");
        }
        return Html(http, NavigatorPages.Saved(propose, Links));
    }
}
