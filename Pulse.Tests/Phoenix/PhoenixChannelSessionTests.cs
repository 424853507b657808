using Pulse.Http;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Phoenix.PhoenixTestKit;

namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public sealed class PhoenixChannelSessionTests : IDisposable
{
    private const string Id = "6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10";
    private const string Topic = "event:" + Id;
    private const string ModelJson = """{"event_id":"6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10","total":7}""";

    private readonly TestMetrics _metrics = new();
    private readonly Hub _hub;
    private readonly FakeSnapshots _snapshots = new();
    private readonly RecordingTransport _transport = new();
    private readonly PhoenixSocketFactory _factory;

    public PhoenixChannelSessionTests()
    {
        _snapshots.Add(Guid.Parse(Id), ModelJson);
        _hub = NewHub(_metrics.Instruments);
        _factory = new PhoenixSocketFactory(_hub, _snapshots, new WebSocketTransportOptions { MaxTopicsPerSocket = 3 }, NullLogger<PhoenixChannelSession>.Instance, _metrics.Instruments);
    }

    public void Dispose() => _metrics.Dispose();

    [Fact]
    public async Task Join_KnownEvent_ReplyWithChannelParamsSnapshotAndSubscribes()
    {
        var session = V2();
        long joinsBefore = _metrics.Read(PulseMetrics.ChannelJoinsTotal);

        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{"token":"x"}]""");

        Assert.Equal($$"""["1","1","{{Topic}}","phx_reply",{"status":"ok","response":{"channel":"{{Topic}}","params":{"token":"x"},"snapshot":""" + ModelJson + "}}]", Assert.Single(_transport.Sent));
        Assert.Equal(1, _hub.SubscriberCount(Topic));
        Assert.Equal(1, _metrics.Read(PulseMetrics.ChannelJoinsTotal) - joinsBefore);
    }

    [Fact]
    public async Task Join_UpperCaseId_ReplyAndSubscriptionUseLowerCase()
    {
        var session = V2();

        await Send(session, $$"""["1","1","EVENT:{{Id.ToUpperInvariant()}}","phx_join",{}]""");

        var reply = Parse(Assert.Single(_transport.Sent));
        Assert.Equal(Topic, reply[2].GetString());
        Assert.Equal(Topic, reply[4].GetProperty("response").GetProperty("channel").GetString());
        Assert.Equal(1, _hub.SubscriberCount(Topic));
    }

    [Fact]
    public async Task Join_UnknownEvent_NotFoundAndNoSubscription()
    {
        var session = V2();
        var unknown = Guid.NewGuid().ToString();

        await Send(session, $$"""["1","1","event:{{unknown}}","phx_join",{}]""");

        Assert.Equal($$$"""["1","1","event:{{{unknown}}}","phx_reply",{"status":"error","response":{"reason":"not found"}}]""", Assert.Single(_transport.Sent));
        Assert.Equal(0, _hub.SubscriberCount("event:" + unknown));
        Assert.True(Assert.Single(_transport.Slots).Disposed);
    }

    [Theory]
    [InlineData("room:lobby")]
    [InlineData("event:not-a-uuid")]
    [InlineData("event:")]
    [InlineData("phoenix")]
    public async Task Join_TopicNotEventUuid_UnmatchedTopic(string topic)
    {
        var session = V2();

        await Send(session, $$"""["1","1","{{topic}}","phx_join",{}]""");

        Assert.Equal($$$"""["1","1","{{{topic}}}","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]""", Assert.Single(_transport.Sent));
        Assert.Equal(0, _snapshots.Calls);
    }

    [Fact]
    public async Task Join_SnapshotProviderThrows_JoinCrashedAndSocketStaysUsable()
    {
        var session = V2();
        _snapshots.Failure = new TimeoutException("database down");

        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");
        _snapshots.Failure = null;
        await Send(session, $$"""["2","2","{{Topic}}","phx_join",{}]""");

        Assert.Contains("\"reason\":\"join crashed\"", _transport.Sent[0], StringComparison.Ordinal);
        Assert.Contains("\"status\":\"ok\"", _transport.Sent[1], StringComparison.Ordinal);
        Assert.Equal(1, _hub.SubscriberCount(Topic));
    }

    [Fact]
    public async Task Join_SameTopicTwice_ClosesOldJoinThenJoinsAgain()
    {
        var session = V2();
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");

        await Send(session, $$"""["3","3","{{Topic}}","phx_join",{}]""");

        Assert.Equal(3, _transport.Sent.Count);
        Assert.Equal($$"""["1","1","{{Topic}}","phx_close",{}]""", _transport.Sent[1]);
        Assert.StartsWith("[\"3\",\"3\",\"" + Topic + "\",\"phx_reply\",{\"status\":\"ok\"", _transport.Sent[2], StringComparison.Ordinal);
        Assert.True(_transport.Slots[0].Disposed);
        Assert.False(_transport.Slots[1].Disposed);
        Assert.Equal(1, _hub.SubscriberCount(Topic));
    }

    [Fact]
    public async Task Join_OneOverLimit_TooManyChannelsJoined()
    {
        var session = V2();
        var ids = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in ids)
        {
            _snapshots.Add(id, "{}");
        }

        for (int i = 0; i < 4; i++)
        {
            await Send(session, $$"""["{{i}}","{{i}}","event:{{ids[i]}}","phx_join",{}]""");
        }

        Assert.All(_transport.Sent.Take(3), reply => Assert.Contains("\"status\":\"ok\"", reply, StringComparison.Ordinal));
        Assert.Equal($$$"""["3","3","event:{{{ids[3]}}}","phx_reply",{"status":"error","response":{"reason":"too many channels joined"}}]""", _transport.Sent[3]);
        Assert.Equal(3, session.JoinedCount);
        Assert.Equal(0, _hub.SubscriberCount($"event:{ids[3]}"));
    }

    [Fact]
    public async Task Join_AtLimitRejoiningJoinedTopic_Allowed()
    {
        var session = V2();
        var ids = Enumerable.Range(0, 2).Select(_ => Guid.NewGuid()).ToArray();
        Array.ForEach(ids, id => _snapshots.Add(id, "{}"));
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");
        await Send(session, $$"""["2","2","event:{{ids[0]}}","phx_join",{}]""");
        await Send(session, $$"""["3","3","event:{{ids[1]}}","phx_join",{}]""");

        await Send(session, $$"""["4","4","{{Topic}}","phx_join",{}]""");

        Assert.Contains("\"status\":\"ok\"", _transport.Sent[^1], StringComparison.Ordinal);
        Assert.Equal(3, session.JoinedCount);
    }

    [Fact]
    public async Task Broadcast_AfterJoin_ReachesSlot()
    {
        var session = V2();
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");

        _hub.Publish(Topic, "update", new Snapshot(Guid.Parse(Id), 2, Encoding.UTF8.GetBytes("{}")));

        Assert.Single(_transport.Slots[0].Offers);
    }

    [Fact]
    public async Task Leave_Joined_ReplyOkThenCloseAndNoMoreBroadcasts()
    {
        var session = V2();
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");

        await Send(session, $$"""["1","2","{{Topic}}","phx_leave",{}]""");
        _hub.Publish(Topic, "update", new Snapshot(Guid.Parse(Id), 2, Encoding.UTF8.GetBytes("{}")));

        Assert.Equal($$$"""["1","2","{{{Topic}}}","phx_reply",{"status":"ok","response":{}}]""", _transport.Sent[1]);
        Assert.Equal($$"""["1","1","{{Topic}}","phx_close",{}]""", _transport.Sent[2]);
        Assert.Empty(_transport.Slots[0].Offers);
        Assert.True(_transport.Slots[0].Disposed);
        Assert.Equal(0, _hub.SubscriberCount(Topic));
    }

    [Fact]
    public async Task Leave_NotJoined_ReplyOkOnly()
    {
        var session = V2();

        await Send(session, $$"""["1","2","{{Topic}}","phx_leave",{}]""");

        Assert.Equal($$$"""["1","2","{{{Topic}}}","phx_reply",{"status":"ok","response":{}}]""", Assert.Single(_transport.Sent));
    }

    [Fact]
    public async Task Heartbeat_OnPhoenixTopic_ReplyOkEmpty()
    {
        var session = V2();

        await Send(session, """[null,"5","phoenix","heartbeat",{}]""");

        Assert.Equal("""[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]""", Assert.Single(_transport.Sent));
    }

    [Fact]
    public async Task UnknownEvent_OnJoinedTopic_ErrorAndStillJoined()
    {
        var session = V2();
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");

        await Send(session, $$"""["1","2","{{Topic}}","shout",{}]""");

        Assert.Equal($$$"""["1","2","{{{Topic}}}","phx_reply",{"status":"error","response":{"reason":"unknown event"}}]""", _transport.Sent[1]);
        Assert.Equal(1, _hub.SubscriberCount(Topic));
    }

    [Theory]
    [InlineData("""[null,"5","phoenix","shout",{}]""")]
    [InlineData("""[null,"5","event:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10","shout",{}]""")]
    [InlineData("""[null,"5","room:x","heartbeat",{}]""")]
    public async Task AnyEvent_OnTopicNotJoined_UnmatchedTopic(string message)
    {
        var session = V2();

        await Send(session, message);

        Assert.Contains("\"reason\":\"unmatched topic\"", Assert.Single(_transport.Sent), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""["1","9","room:x"]""", "[\"1\",\"9\",\"room:x\",")]
    [InlineData("""["1","9","room:x","e",{},6]""", "[\"1\",\"9\",\"room:x\",")]
    [InlineData("""[null,"9","room:x","e",{"a":""", "[null,\"9\",\"room:x\",")]
    public async Task Malformed_WithRefAndTopic_AnsweredMalformed(string message, string envelopeStart)
    {
        var session = V2();

        await Send(session, message);

        Assert.Equal(envelopeStart + "\"phx_reply\",{\"status\":\"error\",\"response\":{\"reason\":\"malformed message\"}}]", Assert.Single(_transport.Sent));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("{}")]
    [InlineData("[\"1\"]")]
    [InlineData("[\"1\",\"2\"]")]
    [InlineData("[\"1\",null,\"t\",\"e\",{},7]")]
    public async Task Malformed_WithoutRefOrTopic_IgnoredAndSocketStaysUp(string message)
    {
        var session = V2();

        await Send(session, message);
        await Send(session, """[null,"5","phoenix","heartbeat",{}]""");

        Assert.Equal("""[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]""", Assert.Single(_transport.Sent));
    }

    [Fact]
    public async Task V1Socket_JoinAndBroadcast_ObjectMessages()
    {
        var session = _factory.CreateSession(_transport, "?vsn=1.0.0");
        await Send(session, $$"""{"topic":"{{Topic}}","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}""");

        _hub.Publish(Topic, "update", new Snapshot(Guid.Parse(Id), 2, Encoding.UTF8.GetBytes("{}")));

        using var reply = JsonDocument.Parse(Assert.Single(_transport.Sent));
        Assert.Equal("phx_reply", reply.RootElement.GetProperty("event").GetString());
        Assert.Equal("ok", reply.RootElement.GetProperty("payload").GetProperty("status").GetString());
        var frame = Assert.Single(_transport.Slots[0].Offers).Bytes;
        Assert.Equal((byte)'{', frame[2]); // 2-byte header, then the V1 object
    }

    [Fact]
    public async Task OnClosed_JoinedTopics_UnsubscribedAndSlotsDisposed()
    {
        var session = V2();
        await Send(session, $$"""["1","1","{{Topic}}","phx_join",{}]""");

        session.OnClosed();

        Assert.Equal(0, _hub.SubscriberCount(Topic));
        Assert.True(_transport.Slots[0].Disposed);
    }

    [Theory]
    [InlineData("?vsn=2.0.0", true)]
    [InlineData("", true)]
    [InlineData("?vsn=", false)]
    [InlineData("?vsn=3.0.0", false)]
    public void TryAccept_Vsn_AcceptedOrUnsupported(string query, bool accepted)
    {
        var request = new WebSocketRequest("/socket/websocket", query, null, "127.0.0.1");

        Assert.Equal(accepted, _factory.TryAccept(request, out var error));
        Assert.Equal(accepted ? null : "unsupported vsn", error);
    }

    private PhoenixChannelSession V2() => _factory.CreateSession(_transport, "?vsn=2.0.0");

    private static async Task Send(PhoenixChannelSession session, string message) =>
        await session.OnTextMessageAsync(Utf8(message));

    private static JsonElement[] Parse(string text) =>
        [.. JsonDocument.Parse(text).RootElement.EnumerateArray()];
}
