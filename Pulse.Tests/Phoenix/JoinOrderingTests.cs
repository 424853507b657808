using Pulse.Tests.Pipeline;
using Pulse.Tests.WebSockets;
using static Pulse.Tests.Phoenix.PhoenixTestKit;

namespace Pulse.Tests.Phoenix;

/// <summary>
/// Issue 10 (7): a join reply is never older than a broadcast already written on that topic. The join
/// subscribes, then reads its snapshot; a tick that publishes in between is the race. Here the test is
/// the tick: the snapshot read waits on the test, which publishes while it waits, then lets the join go
/// on with an older or the same version. The real session, hub, slot and connection; in-memory pipes.
/// </summary>
[Trait("Category", "unit")] public sealed class JoinOrderingTests
{
    private static readonly Guid EventId = Guid.Parse("3b0d2c3e-8f44-4a57-9c61-7d2f4e5a6b70");
    private static readonly string Topic = "event:" + EventId.ToString("D");

    [Fact]
    public async Task Join_NewerBroadcastPublishedWhileSnapshotIsRead_ReplyFirstThenTheBroadcast()
    {
        var (hub, snapshots, socket) = Start();
        await using var _ = socket;
        using var release = snapshots; // a failed assertion must not leave the join (and the socket's dispose) waiting
        await socket.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"1\",\"1\",\"{Topic}\",\"phx_join\",{{}}]")));
        Assert.True(await PipelineKit.EventuallyAsync(() => hub.SubscriberCount(Topic) == 1, TimeSpan.FromSeconds(5)), "the join never subscribed");

        // The tick publishes version 2 while the join still reads; the join then replies with version 1,
        // read before the tick cached 2. Before the fix the slot's writer sent the broadcast at once and
        // the reply after it: the screen showed 2, then went back to 1 until the next change.
        Assert.Equal(1, hub.Publish(Topic, "update", Model(2)));
        await Task.Delay(200); // time for a writer to (wrongly) send the broadcast: none may leave before the reply
        Assert.Equal(0, socket.UnreadOutputBytes());
        snapshots.Complete(Model(1));

        var frames = await ReadMessagesAsync(socket, 2);
        Assert.Equal(("phx_reply", 1), (frames[0][3].GetString(), frames[0][4].GetProperty("response").GetProperty("snapshot").GetProperty("version").GetInt32()));
        Assert.Equal(("update", 2), (frames[1][3].GetString(), frames[1][4].GetProperty("version").GetInt32()));
    }

    [Fact]
    public async Task Join_SameVersionPublishedBeforeAndAfterTheReply_OnlyTheReplyThenNewerBroadcasts()
    {
        var (hub, snapshots, socket) = Start();
        await using var _ = socket;
        using var release = snapshots; // a failed assertion must not leave the join (and the socket's dispose) waiting
        await socket.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"1\",\"1\",\"{Topic}\",\"phx_join\",{{}}]")));
        Assert.True(await PipelineKit.EventuallyAsync(() => hub.SubscriberCount(Topic) == 1, TimeSpan.FromSeconds(5)), "the join never subscribed");

        // The tick cached version 2 before publishing it: the join read 2, and the broadcast of 2 reaches
        // the slot before the reply is queued and once more (a late offer) after it. Neither is sent.
        hub.Publish(Topic, "update", Model(2));
        snapshots.Complete(Model(2));
        var reply = (await ReadMessagesAsync(socket, 1))[0];
        hub.Publish(Topic, "update", Model(2));
        await Task.Delay(200);
        Assert.Equal(0, socket.UnreadOutputBytes());
        hub.Publish(Topic, "goal", Model(3));

        var next = (await ReadMessagesAsync(socket, 1))[0];
        Assert.Equal(2, reply[4].GetProperty("response").GetProperty("snapshot").GetProperty("version").GetInt32());
        Assert.Equal(("goal", 3), (next[3].GetString(), next[4].GetProperty("version").GetInt32()));
        Assert.Equal(0, socket.UnreadOutputBytes());
    }

    private static Snapshot Model(int version) =>
        new(EventId, version, Encoding.UTF8.GetBytes($"{{\"event_id\":\"{EventId:D}\",\"version\":{version}}}"));

    private static (Hub Hub, GatedSnapshots Snapshots, InMemorySocket Socket) Start()
    {
        var hub = NewHub();
        var snapshots = new GatedSnapshots();
        var factory = new PhoenixSocketFactory(hub, snapshots, new WebSocketTransportOptions(), NullLogger<PhoenixChannelSession>.Instance, new PulseMetrics());
        var socket = InMemorySocket.Start(new WebSocketTransportOptions(), 64 * 1024, c => factory.CreateSession(new WebSocketChannelTransport(c), "?vsn=2.0.0"));
        return (hub, snapshots, socket);
    }

    private static async Task<List<JsonElement>> ReadMessagesAsync(InMemorySocket socket, int count)
    {
        var frames = await socket.ReadFramesAsync(count, TimeSpan.FromSeconds(5));
        Assert.Equal(count, frames.Count);
        return [.. frames.Select(f => JsonDocument.Parse(f.Payload).RootElement)];
    }

    /// <summary>A snapshot read that completes when the test says so.</summary>
    private sealed class GatedSnapshots : ISnapshotProvider, IDisposable
    {
        private readonly TaskCompletionSource<Snapshot?> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(Snapshot snapshot) => _next.SetResult(snapshot);

        public void Dispose() => _next.TrySetResult(null);

        public ValueTask<Snapshot?> GetAsync(Guid eventId, CancellationToken cancellationToken) => new(_next.Task);
    }
}
