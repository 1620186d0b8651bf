using System.Collections.Concurrent;
using System.Security.Cryptography;
using CdsMitral.Navigator;
using CdsMitral.Snapshot;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
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

    /// <summary>What the Navigator needs to open: the launch, the user, and reading the chart.</summary>
    public string Scope { get; set; } =
        "launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs " +
        "patient/MedicationStatement.rs patient/Procedure.rs";

    /// <summary>What saving needs, asked for beside <see cref="Scope"/> and apart from it (decision 26 of 2026-12-07): an
    /// authorization server that refuses them (<c>invalid_scope</c>) is asked again for <see cref="Scope"/> alone, and the
    /// Navigator opens read-only. Empty: never asked for, always read-only.</summary>
    public string WriteScope { get; set; } = "patient/QuestionnaireResponse.c patient/ServiceRequest.c";

    /// <summary>Every scope of a launch that may write.</summary>
    public string ReadAndWriteScope => $"{Scope} {WriteScope}".Trim();

    /// <summary>Accept the CDS Hooks Sandbox's launch against an open FHIR server (<c>fhirServiceUrl</c> + <c>patientId</c>,
    /// no sign-in): anyone with the link then reads that server's charts through the Navigator, so it is off unless set.</summary>
    public bool AllowOpenServerLaunch { get; set; }

    /// <summary>How long a launch may take from redirect to callback.</summary>
    public TimeSpan LaunchLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Memory (the default: a restart ends every session) or Database: rows beside the audit chain, shared by
    /// every instance on that store and kept across restarts, their state encrypted with Data Protection.</summary>
    public NavigatorSessionStoreKind SessionStore { get; set; } = NavigatorSessionStoreKind.Memory;

    /// <summary>Where Data Protection keeps its keys (OAuth state, antiforgery, stored sessions). Instances that share
    /// sessions must share this folder; unset, ASP.NET Core's default applies (this user's profile, one machine).</summary>
    public string? DataProtectionKeys { get; set; }

    /// <summary>The longest a session lives, whatever the token's expires_in says.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The EHR origins that may show the Navigator in a frame (a side panel), e.g. <c>https://ehr.example.org</c>.
    /// Empty, the default: no page may frame it. Set, the CSP names exactly these origins and the Navigator's cookies
    /// become <c>SameSite=None; Secure; Partitioned</c>, since a browser sends no Lax cookie into a cross-site frame.</summary>
    public List<string> FrameAncestors { get; set; } = [];

    public bool Framed => FrameAncestors.Count > 0;

    /// <summary>The pages' CSP: <see cref="NavigatorPages.ContentSecurityPolicy"/>, with the configured frame ancestors.</summary>
    public string ContentSecurityPolicy => Framed
        ? NavigatorPages.ContentSecurityPolicy.Replace("frame-ancestors 'none'", "frame-ancestors " + string.Join(' ', FrameAncestors.Select(Origin)), StringComparison.Ordinal)
        : NavigatorPages.ContentSecurityPolicy;

    /// <summary>Why a configured frame ancestor is unusable, or null. Only a bare origin: https, or http on a loopback
    /// host for a developer's EHR; no wildcard, path, query, user information or fragment, so a CSP source cannot widen.</summary>
    public static string? FrameAncestorProblem(string value) =>
        !Uri.TryCreate(value, UriKind.Absolute, out var uri) ? $"'{value}' is not an absolute URL"
        : uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback) ? $"'{value}' is neither https nor http on a loopback host"
        : value.Contains('*', StringComparison.Ordinal) || uri.UserInfo.Length > 0 || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || value.AsSpan().IndexOfAny(" '\";,") >= 0 ? $"'{value}' is not a bare origin (scheme://host[:port])"
        : null;

    private static string Origin(string value) => new Uri(value).GetLeftPart(UriPartial.Authority);
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

    /// <summary>Who the chart is, from its Patient resource.</summary>
    public PatientBanner? Patient { get; init; }

    /// <summary>The banner the pages show: none when the EHR said it shows the patient itself.</summary>
    public PatientBanner? Banner => NeedPatientBanner == false ? null : Patient ?? new PatientBanner(PatientId, null, null, null);

    /// <summary>What became of the write-back, once it was tried.</summary>
    public WriteBackOutcome? WrittenBack { get; set; }
    public string PatientId { get; } = patientId;
    public string Scope { get; } = scope;
    public string User { get; } = user;
    public DateTimeOffset Expires { get; } = expires;
    public ClinicalSnapshot Snapshot { get; } = snapshot;
    public Guid Id { get; init; } = Guid.CreateVersion7();
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

/// <summary>Where sessions live: in this process's memory, or in the audit database, shared by every instance.</summary>
public enum NavigatorSessionStoreKind { Memory, Database }

/// <summary>A session as it is stored: everything but the chart, which is read again with the token where it is needed.</summary>
public sealed record NavigatorSessionRecord(Guid Id, string Iss, string? AccessToken, string PatientId, string Scope, string User, DateTimeOffset Expires,
    NavigatorAnswers Answers, NavigatorAnswers? AuditedAnswers, PathwayResult? AuditedResult, LaunchOrigin? From, string? Encounter,
    bool? NeedPatientBanner, WriteBackOutcome? WrittenBack, PatientBanner? Patient = null)
{
    public override string ToString() => $"NavigatorSessionRecord {{ Id = {Id}, access_token = (redacted) }}";

    public static NavigatorSessionRecord Of(NavigatorSession s) => new(s.Id, s.Iss, s.AccessToken, s.PatientId, s.Scope, s.User, s.Expires, s.Answers,
        s.Audited?.Item1, s.Audited?.Item2, s.From, s.Encounter, s.NeedPatientBanner, s.WrittenBack, s.Patient);

    public NavigatorSession With(ClinicalSnapshot snapshot) => new(Iss, AccessToken, PatientId, Scope, User, Expires, snapshot, Answers)
    {
        Id = Id,
        From = From,
        Encounter = Encounter,
        NeedPatientBanner = NeedPatientBanner,
        Patient = Patient,
        WrittenBack = WrittenBack,
        Audited = AuditedAnswers is { } answers && AuditedResult is { } result ? (answers, result) : null,
    };
}

[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(NavigatorSessionRecord))]
internal sealed partial class NavigatorSessionJson : JsonSerializerContext;

/// <summary>
/// Launches and sessions, keyed by unguessable random ids. In memory by default; with SessionStore = Database they are
/// rows beside the audit chain, the session's state encrypted with Data Protection, so that a restart keeps them and any
/// instance can serve them. There each request reads the row (answers given at another instance count), and the chart
/// is read once per instance with the session's token. Expired entries go when next touched.
/// </summary>
public sealed class NavigatorSessions(IOptions<NavigatorOptions> options, TimeProvider time, IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _launches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NavigatorSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Guid Session, ClinicalSnapshot Snapshot, DateTimeOffset Expires)> _charts = new(StringComparer.Ordinal);

    private bool Shared => options.Value.SessionStore == NavigatorSessionStoreKind.Database;

    private NavigatorSessionStore Store => services.GetRequiredService<NavigatorSessionStore>();

    private IDataProtector Protector => services.GetRequiredService<IDataProtectionProvider>().CreateProtector("CdsMitral.Navigator.Session.v1");

    public static string NewId() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));


    /// <summary>A launch between the redirect to the authorization server and the callback: the id travels in the
    /// library's protected state; the browser binding is the library's correlation cookie.</summary>
    public async Task<string> AddLaunchAsync(CancellationToken cancellationToken)
    {
        await SweepAsync(cancellationToken);
        var id = NewId();
        var expires = time.GetUtcNow() + options.Value.LaunchLifetime;
        if (Shared)
        {
            await Store.AddLaunchAsync(id, expires, cancellationToken);
        }
        else
        {
            _launches[id] = expires;
        }
        return id;
    }

    /// <summary>Whether this launch was pending and not expired; either way it is pending no more.</summary>
    public async Task<bool> TakeLaunchAsync(string? id, CancellationToken cancellationToken) =>
        id is not null && (Shared
            ? await Store.TakeLaunchAsync(id, time.GetUtcNow(), cancellationToken)
            : _launches.TryRemove(id, out var expires) && expires >= time.GetUtcNow());

    public async Task<string> AddSessionAsync(NavigatorSession session, CancellationToken cancellationToken)
    {
        var id = NewId();
        if (Shared)
        {
            _charts[id] = (session.Id, session.Snapshot, session.Expires);
            await SaveAsync(id, session, cancellationToken);
        }
        else
        {
            _sessions[id] = session;
        }
        return id;
    }

    /// <summary>Keeps what changed (answers, audit marks, write-back) where the other instances will find it.</summary>
    public async Task SaveAsync(string? id, NavigatorSession session, CancellationToken cancellationToken)
    {
        if (Shared && id is not null)
        {
            var state = Protector.Protect(JsonSerializer.Serialize(NavigatorSessionRecord.Of(session), NavigatorSessionJson.Default.NavigatorSessionRecord));
            await Store.SaveSessionAsync(id, session.Expires, state, cancellationToken);
        }
    }

    /// <summary>The live session this cookie names, or null (unknown, expired, or its chart no longer readable). An
    /// expired one is dropped with its token.</summary>
    /// <param name="readChart">Reads the chart again for a stored session this instance has not read yet.</param>
    public async Task<NavigatorSession?> FindAsync(string? id, Func<NavigatorSessionRecord, Task<ClinicalSnapshot?>> readChart, CancellationToken cancellationToken)
    {
        if (id is null)
        {
            return null;
        }
        var now = time.GetUtcNow();
        if (!Shared)
        {
            if (!_sessions.TryGetValue(id, out var session))
            {
                return null;
            }
            if (session.Expires <= now)
            {
                _sessions.TryRemove(id, out _);
                return null;
            }
            return session;
        }
        if (await Store.LoadSessionAsync(id, now, cancellationToken) is not { } state || Unprotect(state) is not { } record || record.Expires <= now)
        {
            _charts.TryRemove(id, out _);
            return null;
        }
        if (!_charts.TryGetValue(id, out var chart) || chart.Session != record.Id)
        {
            if (await readChart(record) is not { } snapshot)
            {
                return null;
            }
            chart = _charts[id] = (record.Id, snapshot, record.Expires);
        }
        return record.With(chart.Snapshot);
    }

    private NavigatorSessionRecord? Unprotect(string state)
    {
        try
        {
            return JsonSerializer.Deserialize(Protector.Unprotect(state), NavigatorSessionJson.Default.NavigatorSessionRecord);
        }
        catch (Exception e) when (e is CryptographicException or JsonException)
        {
            // Another key ring (keys not shared, or rotated away): the session cannot be read here, so it has ended.
            return null;
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (key, _) in _launches.Where(l => l.Value < now))
        {
            _launches.TryRemove(key, out _);
        }
        foreach (var (key, _) in _sessions.Where(s => s.Value.Expires <= now))
        {
            _sessions.TryRemove(key, out _);
        }
        foreach (var (key, _) in _charts.Where(c => c.Value.Expires <= now))
        {
            _charts.TryRemove(key, out _);
        }
        if (Shared)
        {
            await Store.SweepAsync(now, cancellationToken);
        }
    }
}
