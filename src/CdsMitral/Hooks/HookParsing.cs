using System.Text.Json;

namespace CdsMitral.Hooks;

/// <summary>
/// Reads a hook request once. The typed members come from the bytes (so a wrong type is reported with its JSON path);
/// the prefetch values are elements of one document over the same bytes, not copies: a 40 KB prefetch stays 40 KB.
/// The caller keeps the document until the request is done, then disposes it.
/// </summary>
public static class HookParsing
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    /// <exception cref="JsonException">Malformed JSON, a duplicate key, or a member of the wrong type (with its path).</exception>
    public static (HookRequest? Request, JsonDocument Document) Parse(ReadOnlyMemory<byte> body)
    {
        var document = JsonDocument.Parse(body, DocumentOptions);
        try
        {
            var request = JsonSerializer.Deserialize(body.Span, HookJson.Default.HookRequest);
            if (request is null || document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("prefetch", out var prefetch) || prefetch.ValueKind == JsonValueKind.Null)
            {
                return (request, document);
            }
            if (prefetch.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("prefetch must be an object.", "$.prefetch", null, null);
            }
            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var key in prefetch.EnumerateObject())
            {
                values[key.Name] = key.Value;
            }
            return (request with { Prefetch = values }, document);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }
}
