using System.Net;
using System.Net.Sockets;

namespace CdsMitral.Service.Trust;

/// <summary>
/// Opens the FHIR client's connections: resolves the host once, refuses loopback, private, link-local (cloud metadata),
/// unspecified and multicast addresses unless a pattern names the host itself, and connects to the addresses it
/// checked, so a second lookup (DNS rebinding) cannot change them.
/// </summary>
/// <param name="resolve">How names are resolved; DNS unless a test registers a resolver (no wildcard name on a test
/// machine resolves to loopback by itself).</param>
public sealed class FhirServerConnector(FhirServerPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await (resolve ?? Dns.GetHostAddressesAsync)(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.NameResolutionError, $"fhirServer host {host} resolves to no address.");
        }
        if (!policy.NamesLiterally(host) && addresses.Select(Forbidden).FirstOrDefault(k => k is not null) is { } kind)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"fhirServer host {host} resolves to a {kind} address, which no allowed pattern names; refused before connecting.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The kind of address the service must not reach through a name it was not given literally, or null.</summary>
    public static string? Forbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return Forbidden(address.MapToIPv4());
        }
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var length);
        if (address.AddressFamily == AddressFamily.InterNetwork && length == 4)
        {
            return (b[0], b[1]) switch
            {
                (127, _) => "loopback",
                (10, _) or (172, >= 16 and <= 31) or (192, 168) => "private",
                (100, >= 64 and <= 127) => "private (shared, RFC 6598)",
                (169, 254) => "link-local (cloud metadata)",
                (0, _) => "unspecified",
                (>= 224 and <= 239, _) => "multicast",
                (255, 255) when b[2] == 255 && b[3] == 255 => "broadcast",
                _ => null,
            };
        }
        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }
        if (address.Equals(IPAddress.IPv6Any))
        {
            return "unspecified";
        }
        // ::a.b.c.d (IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address a gateway may reach.
        var embedded = b[..12].SequenceEqual(new byte[12]) || (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].SequenceEqual(new byte[8]));
        return (b[0] & 0xfe) == 0xfc ? "private (unique local)"
            : b[0] == 0xfe && (b[1] & 0xc0) is 0x80 or 0xc0 ? "link-local"
            : b[0] == 0xff ? "multicast"
            : embedded ? Forbidden(new IPAddress(b[12..16]))
            : null;
    }
}
