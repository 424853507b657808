using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Phoenix.PhoenixTestKit;

namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public class HubTests
{
    private const string Topic = "event:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10";
    private static readonly Snapshot Model = new(Guid.Parse("6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10"), 3, Encoding.UTF8.GetBytes("""{"total":5}"""));

    [Fact]
    public void Publish_NoSubscribers_EncodesNothing()
    {
        var hub = NewHub();

        Assert.Equal(0, hub.Publish(Topic, "update", Model));
        Assert.Equal(0, hub.SubscriberCount(Topic));
    }

    [Fact]
    public void Publish_ManyV2Subscribers_SameFrameInstanceToAll()
    {
        using var metrics = new TestMetrics();
        var hub = NewHub(metrics.Instruments);
        var sinks = Enumerable.Range(0, 50).Select(_ => new RecordingSink()).ToList();
        sinks.ForEach(s => hub.Subscribe(Topic, PhoenixVersion.V2, s));
        long framesBefore = metrics.Read(PulseMetrics.BroadcastFramesTotal);

        Assert.Equal(50, hub.Publish(Topic, "update", Model));

        var frame = Assert.Single(sinks[0].Offers);
        Assert.All(sinks, s => Assert.Same(frame.Bytes, Assert.Single(s.Offers).Bytes));
        Assert.Equal($"[null,null,\"{Topic}\",\"update\",{{\"total\":5}}]", PayloadText(frame.Bytes));
        Assert.Equal(50, metrics.Read(PulseMetrics.BroadcastFramesTotal) - framesBefore);
    }

    [Fact]
    public void Publish_MixedVersions_OneEncodingPerVersion()
    {
        var hub = NewHub();
        var v1 = new[] { new RecordingSink(), new RecordingSink() };
        var v2 = new[] { new RecordingSink(), new RecordingSink(), new RecordingSink() };
        foreach (var s in v1)
        {
            hub.Subscribe(Topic, PhoenixVersion.V1, s);
        }

        foreach (var s in v2)
        {
            hub.Subscribe(Topic, PhoenixVersion.V2, s);
        }

        hub.Publish(Topic, "goal", Model);

        Assert.Same(v1[0].Offers[0].Bytes, v1[1].Offers[0].Bytes);
        Assert.All(v2, s => Assert.Same(v2[0].Offers[0].Bytes, s.Offers[0].Bytes));
        Assert.NotSame(v1[0].Offers[0].Bytes, v2[0].Offers[0].Bytes);
        using var v1Json = JsonDocument.Parse(PayloadText(v1[0].Offers[0].Bytes));
        Assert.Equal("goal", v1Json.RootElement.GetProperty("event").GetString());
        Assert.Equal(5, v1Json.RootElement.GetProperty("payload").GetProperty("total").GetInt32());
    }

    [Fact]
    public void Unsubscribe_Middle_OthersStillReceive()
    {
        var hub = NewHub();
        var sinks = Enumerable.Range(0, 5).Select(_ => new RecordingSink()).ToArray();
        var subscriptions = sinks.Select(s => hub.Subscribe(Topic, PhoenixVersion.V2, s)).ToArray();

        subscriptions[1].Dispose();
        subscriptions[1].Dispose(); // idempotent
        subscriptions[3].Dispose();
        hub.Publish(Topic, "update", Model);

        Assert.Equal(3, hub.SubscriberCount(Topic));
        Assert.Equal([1, 0, 1, 0, 1], sinks.Select(s => s.Offers.Count));
    }

    [Fact]
    public void WatchedEvents_EventAndOtherTopics_IdsOfEventTopicsWithSubscribers()
    {
        var hub = NewHub();
        var subscription = hub.Subscribe(Topic, PhoenixVersion.V2, new RecordingSink());
        hub.Subscribe("event:other", PhoenixVersion.V1, new RecordingSink());

        Assert.Equal([Model.EventId], hub.WatchedEvents());
        Assert.True(hub.IsWatched(Model.EventId));

        subscription.Dispose();

        Assert.Empty(hub.WatchedEvents());
        Assert.False(hub.IsWatched(Model.EventId));
    }

    [Fact]
    public void Unsubscribe_Last_TopicNoLongerWatched()
    {
        var hub = NewHub();
        var subscription = hub.Subscribe(Topic, PhoenixVersion.V2, new RecordingSink());
        hub.Subscribe("event:other", PhoenixVersion.V1, new RecordingSink());
        Assert.Equal([Topic, "event:other"], hub.WatchedTopics().Order(StringComparer.Ordinal));

        subscription.Dispose();

        Assert.Equal(["event:other"], hub.WatchedTopics());
        Assert.Equal(0, hub.Publish(Topic, "update", Model));

        // The emptied topic comes back on the next subscribe.
        var sink = new RecordingSink();
        hub.Subscribe(Topic, PhoenixVersion.V2, sink);
        Assert.Equal(1, hub.Publish(Topic, "update", Model));
        Assert.Single(sink.Offers);
    }

    [Fact]
    public async Task SubscribeUnsubscribe_ConcurrentStorm_CountsExact()
    {
        var hub = NewHub();
        const int PerWorker = 2_000;
        var kept = new ChannelSubscription[4][];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            kept[w] = new ChannelSubscription[PerWorker];
            for (int i = 0; i < PerWorker; i++)
            {
                kept[w][i] = hub.Subscribe(Topic, i % 2 == 0 ? PhoenixVersion.V2 : PhoenixVersion.V1, new RecordingSink());
                hub.Subscribe(Topic, PhoenixVersion.V2, new RecordingSink()).Dispose(); // churn
            }
        })));

        Assert.Equal(4 * PerWorker, hub.SubscriberCount(Topic));
        Assert.Equal(4 * PerWorker, hub.Publish(Topic, "update", Model));

        await Task.WhenAll(kept.Select(list => Task.Run(() => Array.ForEach(list, s => s.Dispose()))));
        Assert.Equal(0, hub.SubscriberCount(Topic));
        Assert.Empty(hub.WatchedTopics());
    }

    [Fact]
    public void Publish_SinkThrows_OthersStillOffered()
    {
        var hub = NewHub();
        var good = new RecordingSink();
        hub.Subscribe(Topic, PhoenixVersion.V2, new ThrowingSink());
        hub.Subscribe(Topic, PhoenixVersion.V2, good);

        Assert.Equal(2, hub.Publish(Topic, "update", Model));
        Assert.Single(good.Offers);
    }

    private static string PayloadText(byte[] frame)
    {
        Assert.Equal(0x81, frame[0]); // FIN=1, Text(0x1)
        return Encoding.UTF8.GetString(ServerFrames.Payload(frame)); // MASK=0; 7-bit, 16-bit or 64-bit length
    }

    private sealed class ThrowingSink : IFrameSink
    {
        public void Offer(Pulse.WebSockets.SharedFrame frame) => throw new InvalidOperationException("broken");

        public void Dispose()
        {
        }
    }
}
