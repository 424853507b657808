using System.Net;

namespace Pulse.Testing.Raw;

/// <summary>How a <see cref="RawClient"/> opens its socket.</summary>
internal sealed class RawClientOptions
{
    /// <summary>The source address to bind (the load tool spreads 19,000 sockets over 127.0.0.x); none: the kernel picks.</summary>
    public IPAddress? Source { get; init; }

    /// <summary>
    /// A 4 KB receive buffer and an Ethernet-sized MSS, set before connecting, so the server's writes
    /// block after a few KB when this peer does not read.
    /// </summary>
    /// <remarks>
    /// Loopback is no phone network: its 64 KB segments make Linux size the server's send buffer at
    /// about 4 MB (2 × 10 initial segments × per-segment memory, clamped by <c>tcp_wmem</c>), so a
    /// non-reading peer would swallow 400 frames of 10 KB before the server noticed. A 4 KB receive
    /// buffer keeps the window small and an MSS of 1,400 bytes (<c>TCP_MAXSEG</c>) makes the server's
    /// kernel size its send buffer as on the internet (tens of KB).
    /// </remarks>
    public bool SmallReceiveWindow { get; init; }

    /// <summary>How long one explicit read (<c>Read…Async</c>) waits before a <see cref="TimeoutException"/>.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
