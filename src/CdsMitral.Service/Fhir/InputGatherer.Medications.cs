using System.Text.Json;
using CdsMitral.Fhir;

namespace CdsMitral.Service.Fhir;

// Medications named by reference and not prefetched, read from the same FHIR server.
public sealed partial class InputGatherer
{
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
}
