using System.Collections.Concurrent;
using System.Security.Cryptography;
using CdsMitral.Navigator;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Navigator;

/// <summary>Settings under CdsMitral:Navigator.</summary>
public sealed class NavigatorOptions
{
    public const string Section = "CdsMitral:Navigator";

    /// <summary>The client_id the EHR registered for the Navigator.</summary>
    public string ClientId { get; set; } = "cdsmitral-navigator";

    /// <summary>Only for a confidential client; a SMART public client (PKCE alone) leaves it unset.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>What the Navigator asks for: read the chart, and create the answers and a draft request.</summary>
    public string Scope { get; set; } =
        "launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs " +
        "patient/MedicationStatement.rs patient/Procedure.rs patient/QuestionnaireResponse.c patient/ServiceRequest.c";

    /// <summary>Accept the CDS Hooks Sandbox's launch against an open FHIR server (<c>fhirServiceUrl</c> + <c>patientId</c>,
    /// no sign-in): anyone with the link then reads that server's charts through the Navigator, so it is off unless set.</summary>
    public bool AllowOpenServerLaunch { get; set; }

    /// <summary>How long a launch may take from redirect to callback.</summary>
    public TimeSpan LaunchLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest a session lives, whatever the token's expires_in says.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>One clinician's Navigator session: the token and the patient stay here, on the server. No token means an
/// open FHIR server read without authorization (the CDS Hooks Sandbox's launch), which never writes back.</summary>
public sealed class NavigatorSession(string iss, string? accessToken, string patientId, string scope, string user, DateTimeOffset expires, ClinicalSnapshot snapshot, NavigatorAnswers answers)
{
    public string Iss { get; } = iss;
    public string? AccessToken { get; } = accessToken;

    /// <summary>The card, rule and hook the launch's appContext named (what of it was well-formed).</summary>
    public LaunchOrigin? From { get; init; }

    /// <summary>The encounter the token response put in context, when it was a FHIR id.</summary>
    public string? Encounter { get; init; }

    /// <summary>SMART need_patient_banner: false when the EHR already shows the patient around the app.</summary>
    public bool? NeedPatientBanner { get; init; }

    /// <summary>What became of the write-back, once it was tried.</summary>
    public WriteBackOutcome? WrittenBack { get; set; }
    public string PatientId { get; } = patientId;
    public string Scope { get; } = scope;
    public string User { get; } = user;
    public DateTimeOffset Expires { get; } = expires;
    public ClinicalSnapshot Snapshot { get; } = snapshot;
    public Guid Id { get; } = Guid.CreateVersion7();
    public NavigatorAnswers Answers { get; set; } = answers;

    public bool OpenServer => AccessToken is null;

    /// <summary>The (answers, result) pair last written to the audit, so a result is audited once.</summary>
    public (NavigatorAnswers, PathwayResult)? Audited { get; set; }

    /// <summary>Whether the EHR granted both create scopes the write-back needs (SMART v2 "c" or v1 "write"/"*").</summary>
    public bool MayWriteBack =>
        !OpenServer && Grants("QuestionnaireResponse") && Grants("ServiceRequest");

    private bool Grants(string type) => Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(s =>
        (s.StartsWith($"patient/{type}.", StringComparison.Ordinal) || s.StartsWith($"user/{type}.", StringComparison.Ordinal)
         || s.StartsWith("patient/*.", StringComparison.Ordinal) || s.StartsWith("user/*.", StringComparison.Ordinal))
        && s[(s.IndexOf('.', StringComparison.Ordinal) + 1)..] is var access
        && (access is "write" or "*" || (access.All(char.IsLower) && access.Contains('c', StringComparison.Ordinal))));
}

/// <summary>Launches and sessions, in memory, keyed by unguessable random ids; expired entries go when next touched.</summary>
public sealed class NavigatorSessions(IOptions<NavigatorOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _launches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NavigatorSession> _sessions = new(StringComparer.Ordinal);

    public static string NewId() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A launch between the redirect to the authorization server and the callback: the id travels in the
    /// library's protected state; the browser binding is the library's correlation cookie.</summary>
    public string AddLaunch()
    {
        Sweep();
        var id = NewId();
        _launches[id] = time.GetUtcNow() + options.Value.LaunchLifetime;
        return id;
    }

    /// <summary>Whether this launch was pending and not expired; either way it is pending no more.</summary>
    public bool TakeLaunch(string? id) =>
        id is not null && _launches.TryRemove(id, out var expires) && expires >= time.GetUtcNow();

    public string AddSession(NavigatorSession session)
    {
        var id = NewId();
        _sessions[id] = session;
        return id;
    }

    /// <summary>The live session this cookie names, or null (unknown or expired: an expired one is dropped with its token).</summary>
    public NavigatorSession? Find(string? id)
    {
        if (id is null || !_sessions.TryGetValue(id, out var session))
        {
            return null;
        }
        if (session.Expires <= time.GetUtcNow())
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        return session;
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (key, _) in _launches.Where(l => l.Value < now))
        {
            _launches.TryRemove(key, out _);
        }
        foreach (var (key, session) in _sessions.Where(s => s.Value.Expires <= now))
        {
            _sessions.TryRemove(key, out _);
        }
    }
}
