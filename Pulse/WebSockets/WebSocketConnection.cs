// The placeholder bodies touch no state yet.
#pragma warning disable CA1822

namespace Pulse.WebSockets;

// Placeholder with the agreed surface; the transport work replaces the bodies.
internal sealed class WebSocketConnection
{
    /// <summary>Unique per process, for logs.</summary>
    public string ConnectionId { get; } = string.Empty;

    /// <summary>Queues one text message (a reply); never dropped, written in order.</summary>
    public void SendText(ReadOnlySpan<byte> utf8Payload) => throw new InvalidOperationException("transport not built yet");

    /// <summary>A latest-only slot for shared, pre-encoded frames; one per joined topic.</summary>
    public FrameSlot CreateSlot() => throw new InvalidOperationException("transport not built yet");

    /// <summary>Starts the close handshake with <paramref name="code"/> (RFC 6455 §7.4).</summary>
    public void Close(ushort code, string reason) => throw new InvalidOperationException("transport not built yet");
}

/// <summary>A complete server frame (header and payload), encoded once and written to many sockets.</summary>
internal sealed class SharedFrame(byte[] bytes)
{
    public byte[] Bytes { get; } = bytes;
}

/// <summary>Latest-only: a new frame replaces one not yet written (the replaced one is counted as skipped).</summary>
internal sealed class FrameSlot : IDisposable
{
    public void Offer(SharedFrame frame) => throw new InvalidOperationException("transport not built yet");

    public void Dispose()
    {
    }
}
