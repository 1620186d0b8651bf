namespace CdsMitral.Service.Hosting;

public static class Streams
{
    /// <summary>The whole stream, or null as soon as it runs past <paramref name="limit"/> bytes: a body without a
    /// Content-Length (chunked, or dripped) is capped as surely as one that declares its length.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAtMostAsync(Stream stream, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
