using Pulse.Broadcasting;

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

    /// <summary>A latest-only slot for one joined topic's broadcast frames.</summary>
    IFrameSink CreateSlot();

    /// <summary>Starts the close handshake (RFC 6455 §7.4).</summary>
    void Close(ushort code, string reason);
}
