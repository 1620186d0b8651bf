using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Service.Hosting;
using CdsMitral.Snapshot;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Fhir;

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

/// <summary>
/// CDS Hooks 2.0 §prefetch, per key: a resource or Bundle is used; null means "no data" and is not refetched;
/// a missing key or an OperationOutcome is fetched from fhirServer — all such keys in parallel, under one deadline.
/// Bundles are followed through their next links (same server only, up to a cap); server sort order is never trusted.
/// </summary>
public sealed class InputGatherer(FhirFetcher fetcher, IOptions<CdsMitralOptions> options, TimeProvider time)
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

    /// <summary>Most Medications a hook call fetches by reference; the rest are named as unresolved on the cards.</summary>
    private const int MaxReferencedMedications = 20;

    /// <summary>Decision 3 of 2026-11-28: a statement or request that names its drug by a reference to <c>Medication/{id}</c>
    /// the prefetch did not include is resolved by reading the Medication from the same FHIR server, in parallel and under
    /// the hook's deadline. A reference to another server is not followed; what cannot be read stays unresolved.</summary>
    private async Task ResolveMedications(List<RawResource> resources, Uri server, string? token, DateTimeOffset deadlineAt,
        List<FhirQuery> queries, List<string> notes, CancellationToken cancellationToken)
    {
        var have = resources.Where(r => r.ResourceType == "Medication").Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var wanted = new List<string>();
        foreach (var r in resources)
        {
            if (r.ResourceType is not ("MedicationRequest" or "MedicationStatement")
                || !r.Json.TryGetProperty("medicationReference"u8, out var reference) || reference.ValueKind != JsonValueKind.Object
                || !reference.TryGetProperty("reference"u8, out var target) || target.ValueKind != JsonValueKind.String
                || target.GetString() is not { } text
                || (text.Contains("://", StringComparison.Ordinal) && !text.StartsWith(server.AbsoluteUri, StringComparison.OrdinalIgnoreCase))
                || FhirRead.ReferenceKey(text, "Medication") is not { } key
                || have.Contains(key) || wanted.Contains(key))
            {
                continue;
            }
            wanted.Add(key);
        }
        if (wanted.Count > MaxReferencedMedications)
        {
            notes.Add($"{wanted.Count} referenced Medications were not in the record; the first {MaxReferencedMedications} were fetched.");
            wanted = wanted.Take(MaxReferencedMedications).ToList();
        }
        var fetched = await Task.WhenAll(wanted.Select(key => fetcher.GetAsync(new Uri(server, key), token, deadlineAt, cancellationToken)));
        foreach (var (result, query) in fetched)
        {
            queries.Add(query);
            if (result.Ok && RawResource.From(result.Body!.Value) is { ResourceType: "Medication", Id: not null } medication)
            {
                resources.Add(medication);
            }
        }
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

    /// <summary>Resources in a prefetch value or response: a Bundle's entries, or a single resource. An OperationOutcome
    /// (alone, or a Bundle entry with an error) is reported as the error; a Bundle whose total exceeds its entries and has
    /// no next link is flagged as truncated. A resource holding a string that is not valid Unicode is left out with a
    /// note naming it; such a string anywhere else makes the whole value unusable.</summary>
    private static (List<RawResource> Resources, string? Error, string? Next, bool Truncated) Unpack(JsonElement value, string key, List<string> notes)
    {
        // "\ud800" parses, but every read of that string throws (and TryGetProperty throws on such a member name):
        // find them before anything reads this value, so that no resource the snapshot meets holds one.
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
        var badText = JsonText.MayHoldBadEscape(raw) ? JsonText.FindInvalidUnicode(raw, max: int.MaxValue) : [];
        RawResource? read;
        try
        {
            read = RawResource.From(value);
        }
        catch (InvalidOperationException)
        {
            return ([], "text that is not valid Unicode where its type or id belongs", null, false);
        }
        if (read is not { } top)
        {
            return ([], "a value that is not a FHIR resource", null, false);
        }
        if (badText.Count > 0 && top.ResourceType == "OperationOutcome")
        {
            return ([], "an OperationOutcome", null, false); // its diagnostics are what cannot be read
        }
        if (badText.Count > 0 && top.ResourceType != "Bundle")
        {
            notes.Add(NotUnicode(top.Key));
            return ([], null, null, false);
        }
        var badEntries = new HashSet<int>();
        foreach (var spot in badText)
        {
            if (EntryIndex(spot.Path) is not { } index)
            {
                return ([], $"text that is not valid Unicode at {spot.Path}", null, false);
            }
            badEntries.Add(index);
        }
        if (top.ResourceType == "OperationOutcome")
        {
            return ([], $"an OperationOutcome{Diagnostics(top.Json)}", null, false);
        }
        if (top.ResourceType != "Bundle")
        {
            return ([top], null, null, false);
        }
        var resources = new List<RawResource>();
        if (value.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            resources.Capacity = entries.GetArrayLength();
            var at = -1;
            foreach (var entry in entries.EnumerateArray())
            {
                if (badEntries.Contains(++at))
                {
                    notes.Add(NotUnicode(EntryKey(entry) ?? $"Entry {at} of '{key}'"));
                    continue;
                }
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("resource", out var resource) || RawResource.From(resource) is not { } r)
                {
                    continue;
                }
                if (r.ResourceType == "OperationOutcome")
                {
                    if (HasError(r.Json))
                    {
                        return ([], $"an OperationOutcome{Diagnostics(r.Json)}", null, false);
                    }
                    continue;
                }
                resources.Add(r);
            }
        }
        string? next = null;
        if (value.TryGetProperty("link", out var links) && links.ValueKind == JsonValueKind.Array)
        {
            next = links.EnumerateArray()
                .Where(l => l.ValueKind == JsonValueKind.Object && l.TryGetProperty("relation", out var rel) && rel.ValueKind == JsonValueKind.String && rel.GetString() == "next")
                .Select(l => l.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null)
                .FirstOrDefault(u => !string.IsNullOrEmpty(u));
        }
        var truncated = value.TryGetProperty("total", out var total) && total.ValueKind == JsonValueKind.Number
            && total.TryGetInt32(out var count) && count > resources.Count && next is null;
        return (resources, null, next, truncated);
    }

    private static string NotUnicode(string what) => $"{what} contains text that is not valid Unicode; not used.";

    /// <summary>N when <paramref name="path"/> is inside the Bundle's entry N ("$.entry[N]…"), else null.</summary>
    private static int? EntryIndex(string path) =>
        path.StartsWith("$.entry[", StringComparison.Ordinal) && path.IndexOf(']', 8) is > 8 and var end
        && int.TryParse(path.AsSpan(8, end - 8), System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : null;

    /// <summary>"Type/id" of an entry's resource when those can be read; null when they are what is broken.</summary>
    private static string? EntryKey(JsonElement entry)
    {
        try
        {
            return entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("resource", out var r) && RawResource.From(r) is { } resource ? resource.Key : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool HasError(JsonElement outcome) =>
        outcome.TryGetProperty("issue", out var issues) && issues.ValueKind == JsonValueKind.Array
        && issues.EnumerateArray().Any(i => i.ValueKind == JsonValueKind.Object && i.TryGetProperty("severity", out var s)
            && s.ValueKind == JsonValueKind.String && s.GetString() is "error" or "fatal");

    private static string Diagnostics(JsonElement outcome)
    {
        var text = outcome.TryGetProperty("issue", out var issues) && issues.ValueKind == JsonValueKind.Array
            ? issues.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.Object && i.TryGetProperty("diagnostics", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null)
                .FirstOrDefault(d => d is not null)
            : null;
        return text is null ? "" : $" ({(text.Length > 120 ? text[..120] + "…" : text)})";
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
