using CdsMitral.Snapshot;

namespace CdsMitral.Service.Audit;

/// <summary>What an invocation's audit page states about it, as (name, value) text; the page (Pages/AuditDetailPage.razor)
/// encodes every one.</summary>
public static class AuditDetailFacts
{
    /// <summary>The invocation: hook, client, FHIR server, patient, timings, versions and its place in the chain.</summary>
    public static IEnumerable<(string Name, string? Value)> Of(InvocationRecord r, StoredEvent stored)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(stored);
        yield return ("Hook", r.Hook);
        yield return ("hookInstance", r.HookInstance);
        yield return ("Reason", r.Reason);
        yield return ("Client", r.Client.Verified
            ? $"{r.Client.Name} {r.Client.Issuer} (jti {r.Client.Jti}{(r.Client.Tenant is null ? "" : $", tenant {r.Client.Tenant}")})"
            : "not authenticated (verification off, or the client's JWT was refused)");
        yield return ("FHIR server", r.FhirServer);
        yield return ("Patient / user / encounter", $"{r.PatientId} / {r.UserId} / {r.EncounterId}");
        yield return ("Timings (ms)", r.Timings is { } t ? $"parse {t.ParseMs:0.0}, gather {t.GatherMs:0.0}, evaluate {t.EvaluateMs:0.0}, total {t.TotalMs:0.0}" : null);
        yield return ("Versions", $"service {r.ServiceVersion}, rule set {r.RuleSetVersion}");
        yield return ("Chain", $"event {stored.Seq}, hash {stored.Hash}, {(stored.KeyId is { } key ? $"key {key}" : "legacy, unkeyed")}"
            + (stored.Problem is { } broken ? $" — NOT VERIFIED: {broken}" : ""));
    }

    /// <summary>The values the rules used: each measurement with its date and source, MR, mechanism, GDMT by class, mitral
    /// procedures and data-quality findings.</summary>
    public static IEnumerable<(string Name, string? Value)> Of(ClinicalSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        foreach (var m in new[] { s.Lvef, s.Lvesd, s.Pasp, s.Eroa, s.RegurgitantVolume, s.RegurgitantFraction, s.Lvedv }.OfType<Measurement>())
        {
            yield return (m.Name, $"{m.Display} on {m.DateText} ({m.Source}){(m.IsStale ? ", stale" : "")}");
        }
        yield return ("MR severity", s.Mr is { } mr ? $"{mr.Label} on {mr.DateText} ({mr.Source}){(mr.IsStale ? ", stale" : "")}" : "none on record");
        yield return ("Mechanism", $"{s.Mechanism.Label}: {s.Mechanism.Basis}");
        foreach (var (gdmtClass, uses) in s.Gdmt.ByClass)
        {
            yield return ($"GDMT: {GdmtStatus.Name(gdmtClass)}", uses.Count == 0 ? "none on record" : string.Join(", ", uses.Select(u => $"{u.Name} ({u.Source})")));
        }
        foreach (var p in s.MitralProcedures)
        {
            yield return ("Mitral procedure", $"{p.Name} on {p.DateText} ({p.Source})");
        }
        foreach (var f in s.Findings)
        {
            yield return ("Data quality", $"{f.Measure} {f.Source} {f.Problem}");
        }
    }

    /// <summary>A feedback item's override reason: its display (or the terminology's, or the code) and its coding.</summary>
    public static string? OverrideReason(FeedbackRecord f, Terminology.Terminology terminology)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(terminology);
        return f.OverrideReason is { } o ? $"{o.Display ?? terminology.Display(Terminology.Vs.CardOverrideReasons, o) ?? o.Code} ({o.System}|{o.Code})" : null;
    }
}
