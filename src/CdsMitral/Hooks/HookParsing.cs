using System.Text.Json;

namespace CdsMitral.Hooks;

/// <summary>
/// Reads a hook request once: one document over the body, with duplicate keys refused. The envelope's members are read
/// from that document, and the prefetch values are elements of it, not copies: a 40 KB prefetch stays 40 KB and is
/// tokenised once. The caller keeps the document until the request is done, then disposes it.
/// </summary>
public static class HookParsing
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <exception cref="JsonException">Malformed JSON, a duplicate key, or a member of the wrong type (with its path and line).</exception>
    public static (HookRequest? Request, JsonDocument Document) Parse(ReadOnlyMemory<byte> body)
    {
        var document = JsonDocument.Parse(body, DocumentOptions);
        try
        {
            return (Read(document.RootElement, body.Span), document);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static HookRequest? Read(JsonElement root, ReadOnlySpan<byte> body)
    {
        if (root.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A CDS Hooks request is a JSON object.", "$", 0, 0);
        }
        string? hook = null, hookInstance = null, fhirServer = null;
        FhirAuthorization? authorization = null;
        JsonElement? context = null;
        Dictionary<string, JsonElement>? prefetch = null;
        foreach (var member in root.EnumerateObject())
        {
            var value = member.Value;
            if (member.NameEquals("hook"u8))
            {
                hook = StringOrNull(value, "$.hook", body);
            }
            else if (member.NameEquals("hookInstance"u8))
            {
                hookInstance = StringOrNull(value, "$.hookInstance", body);
            }
            else if (member.NameEquals("fhirServer"u8))
            {
                fhirServer = StringOrNull(value, "$.fhirServer", body);
            }
            else if (member.NameEquals("fhirAuthorization"u8))
            {
                authorization = Authorization(value, body);
            }
            else if (member.NameEquals("context"u8))
            {
                context = value.ValueKind == JsonValueKind.Null ? null : value;
            }
            else if (member.NameEquals("prefetch"u8))
            {
                prefetch = Prefetch(value, body);
            }
            // Any other member (extension, or one a later version adds) is ignored, as the spec asks.
        }
        return new HookRequest(hook, hookInstance, fhirServer, authorization, context, prefetch);
    }

    private static string? StringOrNull(JsonElement value, string path, ReadOnlySpan<byte> body) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => throw WrongType(path, "a string", value, body),
    };

    private static FhirAuthorization? Authorization(JsonElement value, ReadOnlySpan<byte> body)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw WrongType("$.fhirAuthorization", "an object", value, body);
        }
        try
        {
            return value.Deserialize(HookJson.Default.FhirAuthorization);
        }
        catch (JsonException e)
        {
            // Say where in the whole body, not where in the member.
            throw new JsonException(e.Message, "$.fhirAuthorization" + e.Path?.TrimStart('$'), LineOf(value, body) + e.LineNumber, e.BytePositionInLine, e);
        }
    }

    private static Dictionary<string, JsonElement>? Prefetch(JsonElement value, ReadOnlySpan<byte> body)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw WrongType("$.prefetch", "an object", value, body);
        }
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var key in value.EnumerateObject())
        {
            values[key.Name] = key.Value;
        }
        return values;
    }

    private static JsonException WrongType(string path, string expected, JsonElement value, ReadOnlySpan<byte> body) =>
        new($"{path} must be {expected}.", path, LineOf(value, body), null);

    /// <summary>The zero-based line of the body an element starts on (the document reads the body in place).</summary>
    private static long LineOf(JsonElement value, ReadOnlySpan<byte> body) =>
        body.Overlaps(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value), out var offset) && offset >= 0
            ? body[..offset].Count((byte)'\n')
            : 0;
}
