using System.Text.Json;

namespace CdsMitral.Fhir;

/// <summary>A member the service reads has a shape FHIR R4 does not allow (a string where an object belongs, a number
/// too large for a decimal, an array where one value belongs). The resource holding it is unreadable: it is named in
/// the data-quality findings and not used.</summary>
public sealed class FhirShapeException(string member) : Exception($"'{member}' does not have the JSON type FHIR R4 gives it.");

/// <summary>
/// Reads the few FHIR R4 members the service needs straight from the request's JSON, without building typed records:
/// a chart of 50 Observations is read in place rather than copied into thousands of small objects. Absent and null
/// members read as null; a member of the wrong type throws <see cref="FhirShapeException"/>. Null items in arrays
/// ("coding": [null]) carry nothing and are skipped. Every string read here decodes: a request whose body holds an
/// escaped lone surrogate is refused (Hosting/JsonBodies), and a FHIR resource holding one is left out when it is
/// unpacked (InputGatherer), so <c>GetString</c> never meets one.
/// </summary>
public static class FhirRead
{
    public static JsonElement? Child(this JsonElement parent, ReadOnlySpan<byte> name) =>
        Member(parent, name, out var value) switch
        {
            false => null,
            true when value.ValueKind == JsonValueKind.Object => value,
            _ => throw Shape(name),
        };

    public static string? Text(this JsonElement parent, ReadOnlySpan<byte> name) =>
        Member(parent, name, out var value) switch
        {
            false => null,
            true when value.ValueKind == JsonValueKind.String => value.GetString(),
            _ => throw Shape(name),
        };

    /// <summary>The member's value if it is one of <paramref name="known"/>, as the known instance (nothing is allocated);
    /// null when it is absent or something else.</summary>
    public static string? OneOf(this JsonElement parent, ReadOnlySpan<byte> name, KnownStrings known)
    {
        if (!Member(parent, name, out var value))
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? known.Find(value) : throw Shape(name);
    }

    public static decimal? DecimalValue(this JsonElement parent, ReadOnlySpan<byte> name) =>
        Member(parent, name, out var value) switch
        {
            false => null,
            true when value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) => number,
            _ => throw Shape(name),
        };

    public static int? IntegerValue(this JsonElement parent, ReadOnlySpan<byte> name) =>
        Member(parent, name, out var value) switch
        {
            false => null,
            true when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) => number,
            _ => throw Shape(name),
        };

    /// <summary>The objects of an array member, nulls skipped; none when the member is absent.</summary>
    public static ObjectItems Objects(this JsonElement parent, ReadOnlySpan<byte> name) =>
        Member(parent, name, out var value) switch
        {
            false => default,
            true when value.ValueKind == JsonValueKind.Array => new ObjectItems(value),
            _ => throw Shape(name),
        };

    /// <summary>A FHIR date, dateTime or instant member, parsed (see <see cref="FhirDate"/>). An unparseable date is null.</summary>
    public static DateTimeOffset? Date(this JsonElement parent, ReadOnlySpan<byte> name) => parent.RecordedDate(name)?.Value;

    /// <summary>A FHIR date, dateTime or instant member with the precision it was recorded in. An unparseable date is null.</summary>
    public static RecordedDate? RecordedDate(this JsonElement parent, ReadOnlySpan<byte> name)
    {
        if (!Member(parent, name, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Shape(name);
        }
        // The common case, a plain date ("2026-10-01"), without allocating the string.
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
        return raw.Length == 12 && FhirDate.TryParseDay(raw[1..^1], out var day)
            ? new RecordedDate(day, DatePrecision.Day)
            : FhirDate.ParseRecorded(value.GetString());
    }

    /// <summary>Whether a string member is <paramref name="expected"/>, compared in place; false when it is absent.</summary>
    public static bool Is(this JsonElement parent, ReadOnlySpan<byte> name, string expected) =>
        Member(parent, name, out var value) switch
        {
            false => false,
            true when value.ValueKind == JsonValueKind.String => value.ValueEquals(expected),
            _ => throw Shape(name),
        };

    /// <summary>Whether a CodeableConcept has a coding in <paramref name="system"/> (with <paramref name="code"/>, if one is given).</summary>
    public static bool HasCoding(JsonElement? concept, string system, string? code = null)
    {
        foreach (var coding in concept?.Objects("coding"u8) ?? default)
        {
            if (coding.Is("system"u8, system) && (code is null || coding.Is("code"u8, code)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Reference.reference of a member that is a Reference.</summary>
    public static string? Reference(this JsonElement parent, ReadOnlySpan<byte> name) => parent.Child(name)?.Text("reference"u8);

    /// <summary>"Type/id" from a relative or absolute reference (a version suffix dropped), or null when the reference is
    /// to another type, contained ("#id") or not a literal reference.</summary>
    public static string? ReferenceKey(string reference, string type)
    {
        var history = reference.IndexOf("/_history/", StringComparison.Ordinal);
        var path = history < 0 ? reference : reference[..history];
        var marker = type + "/";
        var at = path.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || (at > 0 && path[at - 1] != '/'))
        {
            return null;
        }
        var id = path[(at + marker.Length)..];
        return id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.') ? marker + id : null;
    }

    /// <summary>The name a person would read for a concept: its text, else the first coding's display.</summary>
    public static string? Label(JsonElement? concept)
    {
        if (concept is not { } c)
        {
            return null;
        }
        if (c.Text("text"u8) is { } text)
        {
            return text;
        }
        foreach (var coding in c.Objects("coding"u8))
        {
            if (coding.Text("display"u8) is { } display)
            {
                return display;
            }
        }
        return null;
    }

    /// <summary>A fixed set of strings a member is compared with, kept as UTF-8 too so that the JSON is compared in place.</summary>
    public sealed class KnownStrings(IEnumerable<string> values)
    {
        private readonly (string Text, byte[] Utf8)[] _values = values.Distinct(StringComparer.Ordinal)
            .Select(v => (v, System.Text.Encoding.UTF8.GetBytes(v))).ToArray();

        /// <summary>The known instance equal to a JSON string, or null.</summary>
        public string? Find(JsonElement value)
        {
            foreach (var (text, utf8) in _values)
            {
                if (value.ValueEquals(utf8))
                {
                    return text;
                }
            }
            return null;
        }
    }

    private static bool Member(JsonElement parent, ReadOnlySpan<byte> name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static FhirShapeException Shape(ReadOnlySpan<byte> name) => new(System.Text.Encoding.UTF8.GetString(name));

    /// <summary>The object items of a JSON array, skipping nulls; any other item makes the array unreadable.</summary>
    public readonly struct ObjectItems(JsonElement array)
    {
        public Enumerator GetEnumerator() => array.ValueKind == JsonValueKind.Array ? new(array.EnumerateArray(), true) : default;

        public struct Enumerator(JsonElement.ArrayEnumerator items, bool any)
        {
            private JsonElement.ArrayEnumerator _items = items;
            private readonly bool _any = any;

            public readonly JsonElement Current => _items.Current;

            public bool MoveNext()
            {
                while (_any && _items.MoveNext())
                {
                    switch (_items.Current.ValueKind)
                    {
                        case JsonValueKind.Object:
                            return true;
                        case JsonValueKind.Null:
                            continue;
                        default:
                            throw new FhirShapeException("an array item");
                    }
                }
                return false;
            }
        }
    }
}
