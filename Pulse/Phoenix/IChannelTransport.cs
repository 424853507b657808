using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>
/// What a channel session needs from its socket: the seam that lets the session be tested without
/// the transport. <see cref="WebSocketChannelTransport"/> adapts a real connection.
/// </summary>
internal interface IChannelTransport
{
    /// <summary>For logs.</summary>
    string ConnectionId { get; }

    /// <summary>Queues one reply; copied before returning; never dropped; written in order.</summary>
    void SendText(ReadOnlySpan<byte> utf8Payload);

    /// <summary>
    /// A latest-only slot for one joined topic's broadcast frames, created closed: frames offered to it wait
    /// until <see cref="SendJoinReply"/> opens it.
    /// </summary>
    IFrameSink CreateSlot();

    /// <summary>
    /// Queues the join reply (as <see cref="SendText"/>) and opens <paramref name="slot"/> in the same step:
    /// no frame of the slot is written before the reply, and only frames of a version newer than
    /// <paramref name="snapshotVersion"/> (the reply's snapshot) are written at all.
    /// </summary>
    void SendJoinReply(IFrameSink slot, ReadOnlySpan<byte> utf8Payload, long snapshotVersion);

    /// <summary>Starts the close handshake (RFC 6455 §7.4).</summary>
    void Close(ushort code, string reason);
}
