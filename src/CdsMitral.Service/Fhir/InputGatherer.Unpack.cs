using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Hooks;

namespace CdsMitral.Service.Fhir;

// A prefetch value or a FHIR response read into resources: Bundle entries, an OperationOutcome as the error, a next
// link, a total larger than the entries, and text that is not valid Unicode.
public sealed partial class InputGatherer
{
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
}
