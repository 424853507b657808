using System.Net;
using System.Net.Sockets;

namespace Pulse.LoadTests.Subscribers;

/// <summary>
/// Spreads client sockets over 127.0.0.1–127.0.0.N. One source address gives one
/// (source, destination) pair about 28,000 ephemeral ports (32768–60999 by default), so
/// 19,000 sockets on one address would sit close to the edge; 16 addresses leave room for
/// TIME_WAIT from earlier runs too.
/// </summary>
internal sealed class SourceAddresses(int count, int offset)
{
    private readonly IPAddress[] _addresses = Enumerable.Range(0, Math.Clamp(count, 1, 254))
        .Select(i => new IPAddress([127, 0, 0, (byte)(1 + ((i + offset) % 254))]))
        .ToArray();

    public IPAddress For(int index) => _addresses[index % _addresses.Length];
}

/// <summary>Turns the socket errors that mean "a limit was reached" into one clear sentence.</summary>
internal static class SocketLimits
{
    public static string? Describe(Exception exception) => exception switch
    {
        SocketException { SocketErrorCode: SocketError.TooManyOpenSockets } =>
            "EMFILE: this process reached its open-file limit (ulimit -n); spread the sockets over more --workers",
        SocketException { SocketErrorCode: SocketError.AddressNotAvailable } =>
            "EADDRNOTAVAIL: ephemeral ports ran out for a source address; raise --source-addresses or wait for TIME_WAIT to clear",
        SocketException { SocketErrorCode: SocketError.NoBufferSpaceAvailable } =>
            "ENOBUFS: the kernel ran out of socket buffers",
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } =>
            "ECONNREFUSED: nothing listens on the target (is the server running?)",
        _ => null,
    };

    /// <summary>True for errors where opening more sockets is pointless.</summary>
    public static bool StopsTheRun(Exception exception) => exception is SocketException
    {
        SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.AddressNotAvailable
            or SocketError.NoBufferSpaceAvailable or SocketError.ConnectionRefused,
    };
}
