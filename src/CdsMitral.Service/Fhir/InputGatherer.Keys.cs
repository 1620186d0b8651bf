using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Hooks;

namespace CdsMitral.Service.Fhir;

// One prefetch key: the client's value when it sent a usable one, else (or when it was cut short) the same query
// fetched from fhirServer, its next pages followed; and the templates filled for that query.
public sealed partial class InputGatherer
{
    private sealed record KeyResult(KeyReport Report, List<RawResource> Resources, List<string> Notes, List<FhirQuery> Queries);

    private async Task<KeyResult> GatherKey(PrefetchTemplate template, Dictionary<string, JsonElement>? prefetch, HookContext context,
        Uri? server, string? token, DateTimeOffset deadlineAt, CancellationToken cancellationToken)
    {
        var key = template.Key;
        var queries = new List<FhirQuery>();
        var notes = new List<string>();
        string? problem = null;
        if (prefetch is not null && prefetch.TryGetValue(key, out var supplied))
        {
            if (supplied.ValueKind == JsonValueKind.Null)
            {
                return new KeyResult(new KeyReport(key, KeySource.PrefetchedNull, 0, null), [], notes, queries);
            }
            var (resources, error, next, truncated) = Unpack(supplied, key, notes);
            if (error is null)
            {
                if (next is not null)
                {
                    if (server is not null)
                    {
                        await FollowPages(next, server, token, deadlineAt, resources, queries, notes, key, cancellationToken);
                    }
                    else
                    {
                        notes.Add($"The client sent only the first page of '{key}' and no FHIR server to fetch the rest.");
                    }
                }
                else if (truncated)
                {
                    if (server is null)
                    {
                        notes.Add($"The client sent only part of '{key}' (its total is larger than its entries).");
                    }
                    else
                    {
                        // The CDS Hooks Sandbox passes only the first page and drops the next link: fetch the whole search instead.
                        var refetched = await Fetch(template, context, server, token, deadlineAt, queries, notes, cancellationToken);
                        if (refetched.Error is null)
                        {
                            return new KeyResult(new KeyReport(key, KeySource.Fetched, refetched.Resources.Count, "prefetch was truncated"), refetched.Resources, notes, queries);
                        }
                        notes.Add($"The client sent only part of '{key}'; fetching the rest failed ({refetched.Error}).");
                    }
                }
                return new KeyResult(new KeyReport(key, KeySource.Prefetched, resources.Count, null), resources, notes, queries);
            }
            problem = $"prefetch held {error}";
        }
        if (server is null)
        {
            return new KeyResult(new KeyReport(key, KeySource.NotAvailable, 0, problem ?? "not prefetched and no fhirServer in the request"), [], notes, queries);
        }
        var fetched = await Fetch(template, context, server, token, deadlineAt, queries, notes, cancellationToken);
        return fetched.Error is null
            ? new KeyResult(new KeyReport(key, KeySource.Fetched, fetched.Resources.Count, problem), fetched.Resources, notes, queries)
            : new KeyResult(new KeyReport(key, KeySource.Failed, 0, problem is null ? fetched.Error : $"{problem}; {fetched.Error}"), [], notes, queries);
    }

    private async Task<(List<RawResource> Resources, string? Error)> Fetch(PrefetchTemplate template, HookContext context, Uri server,
        string? token, DateTimeOffset deadlineAt, List<FhirQuery> queries, List<string> notes, CancellationToken cancellationToken)
    {
        var url = new Uri(server, Expand(template.Query, context));
        var (result, query) = await fetcher.GetAsync(url, token, deadlineAt, cancellationToken);
        queries.Add(query);
        if (!result.Ok)
        {
            // A read of a resource that does not exist is "no data", not a failure.
            return result.Status == 404 && !template.Query.Contains('?', StringComparison.Ordinal) ? ([], null) : ([], result.Error);
        }
        var (resources, error, next, _) = Unpack(result.Body!.Value, template.Key, notes);
        if (error is not null)
        {
            return ([], $"the server answered with {error}");
        }
        if (next is not null)
        {
            await FollowPages(next, server, token, deadlineAt, resources, queries, notes, template.Key, cancellationToken);
        }
        return (resources, null);
    }

    /// <summary>Follows next links on the same server until there are none, the page cap is reached, or the deadline passes.
    /// What was read so far is kept either way, and a note says it is incomplete.</summary>
    private async Task FollowPages(string next, Uri server, string? token, DateTimeOffset deadlineAt, List<RawResource> resources,
        List<FhirQuery> queries, List<string> notes, string key, CancellationToken cancellationToken)
    {
        var pagesRead = 1;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? link = next;
        while (link is not null)
        {
            if (pagesRead >= _options.FhirMaxPages)
            {
                notes.Add($"'{key}' has more pages than the cap of {_options.FhirMaxPages}; older results may be missing.");
                return;
            }
            if (!Uri.TryCreate(link, UriKind.Absolute, out var url) || !url.AbsoluteUri.StartsWith(server.AbsoluteUri, StringComparison.OrdinalIgnoreCase))
            {
                notes.Add($"'{key}' pointed its next page outside the FHIR server; it was not followed.");
                return;
            }
            if (!seen.Add(url.AbsoluteUri))
            {
                notes.Add($"'{key}' paging looped back to a page already read; stopped.");
                return;
            }
            var (result, query) = await fetcher.GetAsync(url, token, deadlineAt, cancellationToken);
            queries.Add(query);
            pagesRead++;
            if (!result.Ok)
            {
                notes.Add($"A later page of '{key}' could not be read ({result.Error}); older results may be missing.");
                return;
            }
            var (more, error, following, _) = Unpack(result.Body!.Value, key, notes);
            if (error is not null)
            {
                notes.Add($"A later page of '{key}' held {error}; older results may be missing.");
                return;
            }
            resources.AddRange(more);
            link = following;
        }
    }

    /// <summary>Fills the prefetch tokens this service's templates use. Ids were validated against the FHIR id pattern,
    /// and are escaped all the same. In the query, the token values' system URLs are percent-encoded (':', '/', '|'):
    /// decision 27 of 2026-12-07, after a proxy in front of a real server turned "http://loinc.org" into "http:/loinc.org"
    /// and every coded search came back empty.</summary>
    public static string Expand(string template, HookContext context)
    {
        var filled = template
            .Replace("{{context.patientId}}", Uri.EscapeDataString(context.PatientId), StringComparison.Ordinal)
            .Replace("{{context.userId}}", Uri.EscapeDataString(context.UserId), StringComparison.Ordinal)
            .Replace("{{context.encounterId}}", Uri.EscapeDataString(context.EncounterId ?? ""), StringComparison.Ordinal);
        var query = filled.IndexOf('?', StringComparison.Ordinal);
        return query < 0
            ? filled
            : filled[..(query + 1)] + filled[(query + 1)..]
                .Replace(":", "%3A", StringComparison.Ordinal)
                .Replace("/", "%2F", StringComparison.Ordinal)
                .Replace("|", "%7C", StringComparison.Ordinal);
    }
}
