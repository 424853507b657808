using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>Adapts a <see cref="WebSocketConnection"/> to the session's <see cref="IChannelTransport"/>.</summary>
internal sealed class WebSocketChannelTransport(WebSocketConnection connection) : IChannelTransport
{
    public string ConnectionId => connection.ConnectionId;

    public void SendText(ReadOnlySpan<byte> utf8Payload) => connection.SendText(utf8Payload);

    public IFrameSink CreateSlot() => connection.CreateSlot();

    public void SendJoinReply(IFrameSink slot, ReadOnlySpan<byte> utf8Payload, long snapshotVersion) =>
        connection.SendJoinReply((FrameSlot)slot, utf8Payload, snapshotVersion);

    public void Close(ushort code, string reason) => connection.Close(code, reason);
}
