using System.Buffers;

namespace CdsMitral.Service.Hosting;

public static class Streams
{
    /// <summary>The whole stream, or null as soon as it runs past <paramref name="limit"/> bytes: a body without a
    /// Content-Length (chunked, or dripped) is capped as surely as one that declares its length. With a declared
    /// <paramref name="length"/> the bytes land in one array of that size; without, in pooled buffers copied once at
    /// the end. Either way the only allocation is the body itself (a growing MemoryStream made ~3× its size).</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAtMostAsync(Stream stream, long limit, CancellationToken cancellationToken, long? length = null)
    {
        if (length is { } declared and >= 0)
        {
            if (declared > limit)
            {
                return null;
            }
            var exact = new byte[declared];
            var filled = 0;
            int read;
            while (filled < exact.Length && (read = await stream.ReadAsync(exact.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }
            if (filled < exact.Length)
            {
                return exact.AsMemory(0, filled); // shorter than declared: what came (Kestrel refuses such a body itself)
            }
            // Longer than declared is impossible through Kestrel; from any other stream, read on under the same cap.
            return await ReadRest(stream, exact, limit, cancellationToken);
        }
        return await ReadRest(stream, [], limit, cancellationToken);
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadRest(Stream stream, byte[] prefix, long limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16384, prefix.Length + 4096));
        try
        {
            prefix.CopyTo(buffer, 0);
            var filled = prefix.Length;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
                if (filled > limit)
                {
                    return null;
                }
                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            return filled == prefix.Length ? prefix : buffer.AsSpan(0, filled).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
