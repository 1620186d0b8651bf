using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Service.Hosting;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Fhir;

/// <summary>
/// CDS Hooks 2.0 §prefetch, per key: a resource or Bundle is used; null means "no data" and is not refetched;
/// a missing key or an OperationOutcome is fetched from fhirServer — all such keys in parallel, under one deadline.
/// Bundles are followed through their next links (same server only, up to a cap); server sort order is never trusted.
/// Split by idea: one key, prefetched or fetched and its pages followed (<c>.Keys.cs</c>); a prefetch value or a
/// response read into resources (<c>.Unpack.cs</c>); referenced Medications resolved (<c>.Medications.cs</c>).
/// </summary>
public sealed partial class InputGatherer(FhirFetcher fetcher, IOptions<CdsMitralOptions> options, TimeProvider time)
{
    private readonly CdsMitralOptions _options = options.Value;

    public async Task<Gathered> GatherAsync(ServiceDefinition service, HookRequest request, HookContext context, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.HookDeadline);
        var deadlineAt = time.GetUtcNow() + _options.HookDeadline;
        Uri? server = request.FhirServer is { } s ? new Uri(s.TrimEnd('/') + "/") : null;
        var token = request.FhirAuthorization?.AccessToken;

        var tasks = service.Prefetch.Select(template => GatherKey(template, request.Prefetch, context, server, token, deadlineAt, deadline.Token)).ToList();
        var results = await Task.WhenAll(tasks);

        var resources = new List<RawResource>(results.Sum(r => r.Resources.Count)); // sized once: a chart is ~70 resources
        foreach (var r in results)
        {
            resources.AddRange(r.Resources);
        }
        var unavailable = results.Where(r => !Required(service, r.Report.Key) && r.Report.Source is KeySource.Failed or KeySource.NotAvailable)
            .Select(r => Category(r.Report.Key)).Distinct().ToList();
        var notes = results.SelectMany(r => r.Notes).ToList();
        var queries = results.SelectMany(r => r.Queries).ToList();
        if (server is not null)
        {
            await ResolveMedications(resources, server, token, deadlineAt, queries, notes, deadline.Token);
        }
        if (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Telemetry.Metrics.DeadlineHits.Add(1, new KeyValuePair<string, object?>("cds.service", service.Id));
        }
        return new Gathered(new PatientRecord(context.PatientId, resources, unavailable, notes), results.Select(r => r.Report).ToList(), queries);
    }

    private static bool Required(ServiceDefinition service, string key) => service.Prefetch.First(p => p.Key == key).Required;

    private static string Category(string key) => key switch
    {
        "conditions" => "conditions",
        "procedures" => "procedures",
        "echoPanels" => "echo panels",
        "patient" => "the patient resource",
        _ => key,
    };
}
