using System.Diagnostics.Metrics;

namespace CdsMitral.Service.Telemetry;

/// <summary>
/// The service's own instruments (meter "CdsMitral"). Every tag is from a small, closed set the service controls — a
/// service id it serves, a rule id, an indicator, an HTTP status, a FHIR server's host from the trusted list, a reason
/// category — never a patient, a user, a token or text from a request or a record. Recording costs nothing measurable
/// while no exporter listens.
/// </summary>
public static class Metrics
{
    public const string MeterName = "CdsMitral";

    private static readonly Meter Meter = new(MeterName, typeof(Metrics).Assembly.GetName().Version?.ToString(3));

    /// <summary>Seconds: a hook's answer is a few milliseconds, a FHIR fetch up to its deadline of seconds.</summary>
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    };

    public static readonly Histogram<double> HookDuration = Meter.CreateHistogram("cdsmitral.hook.duration", "s",
        "From a hook call's arrival to its answer, its audit record durable", advice: Seconds);

    public static readonly Counter<long> Cards = Meter.CreateCounter<long>("cdsmitral.cards", "{card}", "Cards returned, per rule and indicator");

    public static readonly Counter<long> SilentFirings = Meter.CreateCounter<long>("cdsmitral.rule.silent_firings", "{firing}",
        "Rules that fired in silent mode (audited, never shown), per rule and version");

    public static readonly Counter<long> StandBacks = Meter.CreateCounter<long>("cdsmitral.standbacks", "{card}",
        "Cards left out of an answer because of earlier feedback, per rule");

    public static readonly Histogram<double> FhirDuration = Meter.CreateHistogram("cdsmitral.fhir.request.duration", "s",
        "One GET from an EHR's FHIR server, retries included, per host and outcome", advice: Seconds);

    public static readonly Counter<long> FhirFailures = Meter.CreateCounter<long>("cdsmitral.fhir.request.failures", "{request}",
        "GETs from an EHR's FHIR server that gave no usable answer, per host and reason");

    public static readonly Counter<long> DeadlineHits = Meter.CreateCounter<long>("cdsmitral.hook.deadline_hits", "{call}",
        "Hook calls whose FHIR fetching ran into the hook deadline, per service");

    public static readonly Histogram<double> AuditCommit = Meter.CreateHistogram("cdsmitral.audit.commit.duration", "s",
        "How long a hook call waited for its audit record to be durable", advice: Seconds);

    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>("cdsmitral.refusals", "{call}",
        "Calls refused, per HTTP status and the stage that refused them");

    /// <summary>A service id as a tag: one of ours, or "other" (a caller picks the path, and so could pick any number of
    /// distinct values).</summary>
    public static string ServiceTag(string id, bool known) => known ? id : "other";
}
