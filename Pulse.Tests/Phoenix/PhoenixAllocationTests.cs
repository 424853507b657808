using static Pulse.Tests.Phoenix.PhoenixTestKit;

namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public class PhoenixAllocationTests
{
    [Fact]
    public async Task Heartbeat_Warm_AllocatesOnlyTheRefString()
    {
        var transport = new NullTransport();
        var factory = new PhoenixSocketFactory(NewHub(), new FakeSnapshots(), new WebSocketTransportOptions(), NullLogger<PhoenixChannelSession>.Instance, new PulseMetrics());
        var session = factory.CreateSession(transport, "?vsn=2.0.0");
        var heartbeat = Utf8("""[null,"12345","phoenix","heartbeat",{}]""");
        await session.OnTextMessageAsync(heartbeat); // warm: the per-thread JSON scratch

        long before = GC.GetAllocatedBytesForCurrentThread();
        await session.OnTextMessageAsync(heartbeat);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The ref "12345" is one 32-byte string; topic and event names are interned, the reply is
        // written into the reused scratch. 64 leaves room for nothing else of note.
        Assert.Equal(2, transport.Sent);
        Assert.InRange(allocated, 1, 64);
    }

    private sealed class NullTransport : IChannelTransport
    {
        public int Sent { get; private set; }

        public string ConnectionId => "alloc";

        public void SendText(ReadOnlySpan<byte> utf8Payload) => Sent++;

        public Pulse.WebSockets.IFrameSink CreateSlot() => throw new InvalidOperationException();

        public void SendJoinReply(Pulse.WebSockets.IFrameSink slot, ReadOnlySpan<byte> utf8Payload, long snapshotVersion) => throw new InvalidOperationException();

        public void Close(ushort code, string reason) => throw new InvalidOperationException();
    }
}
