using CdsMitral.Hooks;
using Microsoft.Net.Http.Headers;

namespace CdsMitral.Service.Hosting;

/// <summary>Why a request body is not read any further: the status and the sentence of the OperationOutcome.</summary>
public sealed record BodyRefusal(int Status, string Code, string Text, string? Expression = null)
{
    public IResult ToResult() => OperationOutcomes.Error(Status, Code, Text, Expression);
}

/// <summary>
/// The one gate every JSON body of a CDS Hooks call passes (hook requests and feedback alike): the media type, the size
/// (declared or not), a leading byte order mark, UTF-8, and escapes that do not make valid Unicode or make a NUL. What
/// comes out is JSON text whose every string can be read and stored.
/// </summary>
public static class JsonBodies
{
    public const string Accepted = "Content-Type: application/json, with no charset or charset=utf-8";

    /// <summary>The body, or why it is refused. <paramref name="what"/> names the body in sentences ("A CDS Hooks request").</summary>
    public static async Task<(ReadOnlyMemory<byte> Body, BodyRefusal? Refusal)> ReadAsync(HttpRequest request, long limit, string what)
    {
        if (MediaTypeRefusal(request.ContentType, what) is { } refusal)
        {
            return (default, refusal);
        }
        var tooLarge = new BodyRefusal(413, "too-costly", $"The request body is larger than {limit} bytes.");
        if (request.ContentLength > limit)
        {
            return (default, tooLarge);
        }
        ReadOnlyMemory<byte>? read;
        try
        {
            read = request.ContentLength is { } declared
                ? await ReadPooled(request, declared)
                : await Streams.ReadAtMostAsync(request.Body, limit, request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own cut (MaxRequestBodySize) on a chunked body, or a malformed chunk: answered here, so the
            // caller can record it like any other refusal.
            return (default, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? tooLarge
                : new BodyRefusal(e.StatusCode is >= 400 and < 500 ? e.StatusCode : 400, "invalid", $"The request body could not be read: {e.Message}"));
        }
        if (read is not { } body)
        {
            return (default, tooLarge);
        }
        // RFC 8259 §8.1: a sender must not add a BOM, a parser may ignore one. Ignoring it costs nothing and refuses no one.
        if (body.Span.StartsWith(JsonText.ByteOrderMark))
        {
            body = body[JsonText.ByteOrderMark.Length..];
        }
        // The JSON reader checks UTF-8 only where it decodes: bad bytes inside a string would surface later, deep in
        // whatever reads it, as a 500. Check the whole body once, here.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return (default, new BodyRefusal(400, "invalid", "The body is not valid UTF-8."));
        }
        // Likewise "\ud800": valid JSON, but no string holding it can be read. And "\u0000", which FHIR strings may not
        // hold and PostgreSQL text cannot store (the audit's index columns). The walk runs only when such an escape is there.
        if (JsonText.MayHoldBadEscape(body.Span, nul: true) && JsonText.FindInvalidUnicode(body.Span, nul: true) is [var spot, ..])
        {
            return (default, new BodyRefusal(400, "invalid", $"The string at {spot.Path} (line {spot.Line}) {spot.Problem}.", spot.Path));
        }
        return (body, null);
    }

    /// <summary>A body of declared length, read into a pooled buffer that goes back to the pool (cleared: it may hold an
    /// access token) when the response is done; the parsed document and everything read from it live no longer than
    /// the call. Saves allocating the body itself on every call. The caller has checked the length against the limit.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadPooled(HttpRequest request, long declared)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)declared);
        request.HttpContext.Response.RegisterForDispose(new Returned(buffer));
        var filled = 0;
        int read;
        while (filled < declared && (read = await request.Body.ReadAsync(buffer.AsMemory(filled, (int)declared - filled), request.HttpContext.RequestAborted)) > 0)
        {
            filled += read;
        }
        return buffer.AsMemory(0, filled);
    }

    private sealed class Returned(byte[] buffer) : IDisposable
    {
        public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
    }

    /// <summary>Null when the media type is application/json in UTF-8; otherwise the 415 that says what is accepted.
    /// CDS Hooks bodies are JSON documents, not FHIR resources, so application/fhir+json is not one of them.</summary>
    public static BodyRefusal? MediaTypeRefusal(string? contentType, string what)
    {
        var sent = contentType is null ? "no Content-Type" : $"'{(contentType.Length > 100 ? contentType[..100] + "…" : contentType)}'";
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Charset is { HasValue: true } charset && !HeaderUtilities.RemoveQuotes(charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return new BodyRefusal(415, "not-supported", $"{what} must be sent as {Accepted}; the request had {sent}.");
        }
        return null;
    }
}
