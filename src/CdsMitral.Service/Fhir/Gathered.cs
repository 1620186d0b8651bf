using CdsMitral.Hooks;
using CdsMitral.Snapshot;

namespace CdsMitral.Service.Fhir;

/// <summary>Where each prefetch key's resources came from.</summary>
public enum KeySource { Prefetched, PrefetchedNull, Fetched, Failed, NotAvailable }

/// <summary>How one prefetch key was satisfied, for the audit and the log.</summary>
public sealed record KeyReport(string Key, KeySource Source, int Resources, string? Problem);

public sealed record Gathered(PatientRecord Record, IReadOnlyList<KeyReport> Keys, IReadOnlyList<FhirQuery> Queries)
{
    public IEnumerable<string> MissingRequired(ServiceDefinition service) =>
        Keys.Where(k => k.Source is KeySource.Failed or KeySource.NotAvailable
                        && service.Prefetch.First(p => p.Key == k.Key).Required)
            .Select(k => k.Key);
}
