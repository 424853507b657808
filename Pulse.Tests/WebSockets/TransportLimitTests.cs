using System.Buffers.Binary;
using System.Diagnostics;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.Phoenix;
using Pulse.Tests.Pipeline;

namespace Pulse.Tests.WebSockets;

/// <summary>The transport's own limits (<c>WebSocket:*</c> timeouts and sizes) against the whole server, over raw sockets.</summary>
[Trait("Category", "socket")] public sealed class TransportLimitTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    // 35 bytes of JSON; the reply [null,"1","phoenix","phx_reply",{"status":"ok","response":{}}] is 62 + 2 header bytes.
    private static readonly byte[] HeartbeatFrame = ClientFrames.Build(0x81, """[null,"1","phoenix","heartbeat",{}]"""u8);

    [Theory]
    [InlineData(-1, "HTTP/1.1 101")]
    [InlineData(0, "HTTP/1.1 101")]
    [InlineData(1, "HTTP/1.1 431")]
    public async Task MaxRequestHeadBytes1024_UpgradeHeadAroundTheLimit_101Or431(int overLimit, string expected)
    {
        const int limit = 1024;
        await using var server = await Infrastructure.TestServer.StartAsync(database, o => o.WebSocket.MaxRequestHeadBytes = limit);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        // The limit counts the whole head, request line to the final empty line's CRLF included.
        // "X-Pad: " + padding + "\r\n" pads the sample request to exactly limit + overLimit bytes.
        int bare = RawClient.UpgradeRequest().Length;
        string request = RawClient.UpgradeRequest("X-Pad: " + new string('a', limit + overLimit - bare - 9) + "\r\n");
        Assert.Equal(limit + overLimit, Encoding.ASCII.GetByteCount(request));
        await peer.SendAsync(request);

        Assert.StartsWith(expected, await peer.ReadResponseAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")] // connects and sends nothing
    [InlineData("GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n")] // half an upgrade head
    [InlineData("GETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGETGET")] // a method token longer than any method, no space
    public async Task HandshakeTimeoutOneSecond_StalledFirstBytesThenSilence_ClosedAfterAboutOneSecond(string first)
    {
        await using var server = await Infrastructure.TestServer.StartAsync(database, o => o.WebSocket.HandshakeTimeoutSeconds = 1);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        var clock = Stopwatch.StartNew();
        await peer.SendAsync(first);
        bool closed = await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(8));

        Assert.True(closed, "a stalled connection kept its descriptor for 8 s");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
    }

    [Fact]
    public async Task CloseTimeoutOneSecond_PeerNeverAnswersTheHeartbeatClose_DroppedAboutOneSecondLater()
    {
        await using var server = await Infrastructure.TestServer.StartAsync(database, o =>
        {
            o.WebSocket.HeartbeatTimeoutSeconds = 1;
            o.WebSocket.CloseTimeoutSeconds = 1;
        });
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);
        await peer.UpgradeAsync();

        // Silent: after 1–2 s (the heartbeat scan runs once a second) the server sends Close 1000.
        int code = await peer.ReadCloseCodeAsync();
        var clock = Stopwatch.StartNew();
        bool closed = await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(8));

        Assert.Equal(1000, code);
        Assert.True(closed, "a peer that never answered the Close frame kept its connection for 8 s");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.8, 4);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(1_048_576)] // the default
    public async Task MaxQueuedReplyBytes_HeartbeatFloodNotReadForTwoSeconds_PausedNotClosedThenEveryReply(int maxQueued)
    {
        const int heartbeats = 8000;
        await using var server = await Infrastructure.TestServer.StartAsync(database, o => o.WebSocket.MaxQueuedReplyBytes = maxQueued);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port, smallWindow: true);
        await peer.UpgradeAsync();

        // 8,000 replies are 512 KB: past the peer's 4 KB window, the server's send buffer (tens of KB at
        // MSS 1,400) and Kestrel's 64 KB output pipe. The server stops reading this peer instead of queuing
        // (or closing, as when the limit counted what one read batch produced): its heartbeats wait unread.
        var batch = ClientFrames.Concat([.. Enumerable.Repeat(HeartbeatFrame, heartbeats / 8)]);
        var send = Task.Run(async () =>
        {
            for (int i = 0; i < 8; i++)
            {
                await peer.SendAsync(batch);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(2));
        int replies = 0;
        while (replies < heartbeats)
        {
            var (b0, payload) = await peer.ReadFrameAsync();
            Assert.True((b0 & 0x0F) == 0x1, $"after {replies} replies: opcode byte 0x{b0:X2}, {Encoding.UTF8.GetString(payload)}");
            replies++;
        }

        await send.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(heartbeats, replies);
    }

    [Fact]
    public async Task WriteTimeoutOneSecond_JoinedPeerStopsReadingDuringBroadcasts_AbortedWhileOthersKeepReceiving()
    {
        // 3 sides × 80 one-minute points ≈ 10 KB of view model per broadcast (as in SlowConsumerTests).
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(80));
        var (eventId, kw) = await database.CreateEventAsync("Stall", start, end, ("Atleti", "#atm"), ("Barça", "#fcb"), ("Madrid", "#rm"));
        var keywords = kw.Values.ToArray();
        string topic = PipelineKit.Topic(eventId);
        await using var server = await Infrastructure.TestServer.StartAsync(database, o =>
        {
            o.WebSocket.WriteTimeoutSeconds = 1;
            o.Broadcast.TickMilliseconds = 100;
        });
        await using var good = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal("ok", (await good.JoinAsync(topic, "1")).Json[4].GetProperty("status").GetString());
        using var stalled = await RawClient.ConnectAsync(server.BaseAddress.Port, smallWindow: true);
        await stalled.UpgradeAndJoinAsync(topic);

        // 40 rounds of 100 ms: the stalled socket's writes block after about a dozen 10 KB frames, and the
        // heartbeat scan aborts it 1–2 s later, well inside the 4 s of flow.
        const int rounds = 40;
        var last = $"round-{rounds - 1}";
        var goodReceives = good.ReceiveUntilAsync(m => WireScenario.IsBroadcast(m, topic, last), TimeSpan.FromSeconds(30));
        for (int i = 0; i < rounds; i++)
        {
            await database.InsertEntryAsync(start.AddMinutes(i % 80).AddSeconds(7), keywords[i % keywords.Length]);
            await PipelineKit.PostAsync(server, eventId, $"round-{i}");
            await Task.Delay(100);
        }

        var (broadcast, _) = await goodReceives;
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Reading at last: an aborted connection ends after what the kernels still held; a live one would
        // keep the connection open after the buffered frames, and the drain would time out.
        Assert.True(await stalled.DrainUntilClosedAsync(TimeSpan.FromSeconds(5)), "the peer that stopped reading was not aborted");
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, broadcast.Json[4]);
        await good.HeartbeatAsync("after");
    }

    [Fact]
    public async Task UpgradeAsSecondRequestOnAKeepAliveConnection_SwitchesAndAnswersHeartbeats()
    {
        await using var server = await Infrastructure.TestServer.StartAsync(database);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        await peer.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var first = await peer.ReadResponseAsync();
        await peer.SendAsync(RawClient.UpgradeRequest());
        var second = await peer.ReadResponseAsync();
        await peer.SendAsync(HeartbeatFrame);
        var (_, reply) = await peer.ReadFrameAsync();

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101", second, StringComparison.Ordinal);
        Assert.Equal("""[null,"1","phoenix","phx_reply",{"status":"ok","response":{}}]""", Encoding.UTF8.GetString(reply));
    }
}
