using Pulse.Broadcasting;
using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>Adapts a <see cref="WebSocketConnection"/> to the session's <see cref="IChannelTransport"/>.</summary>
internal sealed class WebSocketChannelTransport(WebSocketConnection connection) : IChannelTransport
{
    public string ConnectionId => connection.ConnectionId;

    public void SendText(ReadOnlySpan<byte> utf8Payload) => connection.SendText(utf8Payload);

    // If FrameSlot implements IFrameSink itself, return it directly and drop the wrapper (one object per join).
    public IFrameSink CreateSlot() => new FrameSlotSink(connection.CreateSlot());

    public void Close(ushort code, string reason) => connection.Close(code, reason);

    private sealed class FrameSlotSink(FrameSlot slot) : IFrameSink
    {
        public void Offer(SharedFrame frame) => slot.Offer(frame);

        public void Dispose() => slot.Dispose();
    }
}
