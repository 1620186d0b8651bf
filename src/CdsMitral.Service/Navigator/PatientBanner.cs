using System.Text.Json;
using CdsMitral.Snapshot;

namespace CdsMitral.Service.Navigator;

/// <summary>Who the Navigator is about, from the Patient resource the launch read: shown on every page unless the EHR says
/// it shows the patient itself (SMART <c>need_patient_banner</c> false), so that a clinician never answers for the wrong
/// chart. Kept with the session only; the audit keeps the patient id, not the name.</summary>
public sealed record PatientBanner(string Id, string? Name, string? BirthDate, string? Gender)
{
    /// <summary>From the record the launch gathered; a record without the Patient resource still names the id.</summary>
    public static PatientBanner From(PatientRecord record)
    {
        foreach (var resource in record.Resources)
        {
            if (resource.ResourceType == "Patient" && resource.Json.TryGetProperty("id"u8, out var id) && id.ValueEquals(record.PatientId))
            {
                return new PatientBanner(record.PatientId, NameOf(resource.Json), Field(resource.Json, "birthDate"u8), Field(resource.Json, "gender"u8));
            }
        }
        return new PatientBanner(record.PatientId, null, null, null);
    }

    /// <summary>The name a clinician knows the patient by: an official or usual name first, its text or given and family.</summary>
    private static string? NameOf(JsonElement patient)
    {
        if (!patient.TryGetProperty("name"u8, out var names) || names.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var candidates = names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.Object)
            .OrderBy(n => Field(n, "use"u8) switch { "official" => 0, "usual" => 1, null => 2, "old" => 4, _ => 3 }).ToList();
        foreach (var name in candidates)
        {
            if (Field(name, "text"u8) is { Length: > 0 } text)
            {
                return Clip(text);
            }
            var given = name.TryGetProperty("given"u8, out var g) && g.ValueKind == JsonValueKind.Array
                ? g.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()!) : [];
            var parts = given.Append(Field(name, "family"u8) ?? "").Where(p => p.Length > 0).ToList();
            if (parts.Count > 0)
            {
                return Clip(string.Join(' ', parts));
            }
        }
        return null;
    }

    private static string Clip(string text) => text.Length <= 120 ? text : text[..120] + "…";

    private static string? Field(JsonElement element, ReadOnlySpan<byte> property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>What follows the name: the birth date and gender when the record has them, and the id.</summary>
    public IEnumerable<string> Details()
    {
        if (BirthDate is not null)
        {
            yield return $"born {BirthDate}";
        }
        if (Gender is not null)
        {
            yield return Gender;
        }
        yield return $"Patient/{Id}";
    }

    /// <summary>"Sample Patient · born 1950-01-01 · female · Patient/abc".</summary>
    public string Text => string.Join(" · ", Details().Prepend(Name ?? "Name not in the record"));
}
