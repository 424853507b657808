using System.Diagnostics;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// WebSocket upgrades on a later request of a keep-alive connection (what nginx does with the idle upstream
/// connections it keeps), over raw sockets against the transport in front of a minimal Kestrel: every earlier
/// request answered in order, then the same 101, refusals and limits as a first-request upgrade.
/// </summary>
[Trait("Category", "socket")] public sealed class KeepAliveUpgradeTests
{
    private const string Get = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";

    [Fact]
    public async Task Upgrade_AfterOneGet_SwitchesAndEchoes()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(Get);
        var first = await peer.ReadResponseAsync();
        await peer.SendAsync(RawClient.UpgradeRequest());
        var second = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.EndsWith("hi", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", second, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", second, StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after a GET");
    }

    [Fact]
    public async Task Upgrade_AfterPipelinedGetsInOneWrite_AnswersThemInOrderThen101()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        var gets = string.Concat(Enumerable.Range(0, 8).Select(i => $"GET /n/{i} HTTP/1.1\r\nHost: localhost\r\n\r\n"));

        await peer.SendAsync(gets + RawClient.UpgradeRequest());

        for (int i = 0; i < 8; i++)
        {
            var response = await peer.ReadResponseAsync();
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\n" + i, response, StringComparison.Ordinal);
        }

        Assert.StartsWith("HTTP/1.1 101", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after 8 pipelined GETs");
    }

    [Fact]
    public async Task Upgrade_AfterPostWithContentLength_BodyIsNotTakenForAHead()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        // The body is itself an upgrade request: only framing tells it from one.
        var body = RawClient.UpgradeRequest();
        await peer.SendAsync($"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {body.Length}\r\n\r\n{body}" + RawClient.UpgradeRequest());
        var echoed = await peer.ReadResponseAsync();
        var upgraded = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", echoed, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + body, echoed, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101", upgraded, StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after a POST");
    }

    [Fact]
    public async Task Upgrade_AfterChunkedPost_BodyIsNotTakenForAHead()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        var body = RawClient.UpgradeRequest();
        var half = body.Length / 2;

        // Two chunks (the second with an extension, §7.1.1), the last chunk, a trailer field, the final CRLF.
        await peer.SendAsync(
            "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            + $"{half:x}\r\n{body[..half]}\r\n"
            + $"{body.Length - half:x};note=1\r\n{body[half..]}\r\n"
            + "0\r\nX-Trailer: yes\r\n\r\n"
            + RawClient.UpgradeRequest());
        var echoed = await peer.ReadResponseAsync();
        var upgraded = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", echoed, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + body, echoed, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101", upgraded, StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after a chunked POST");
    }

    [Fact]
    public async Task Upgrade_AfterHead_Switches()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync("HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n" + RawClient.UpgradeRequest());
        var head = await peer.ReadResponseHeadAsync();
        var upgraded = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101", upgraded, StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after a HEAD");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Upgrade_HeadSplitOverManyWrites_Switches(int bytesPerWrite)
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);

        var head = Encoding.ASCII.GetBytes(RawClient.UpgradeRequest());
        for (int at = 0; at < head.Length; at += bytesPerWrite)
        {
            await peer.SendAsync(head[at..Math.Min(at + bytesPerWrite, head.Length)]);
            await Task.Delay(1); // separate segments on the wire, so the server reads them apart
        }

        Assert.StartsWith("HTTP/1.1 101", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        await AssertEchoesAsync(peer, "after a split head");
    }

    [Fact]
    public async Task Upgrade_HeadAndFirstFrameInOneWriteAfterAGet_FrameIsKept()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync([.. Encoding.ASCII.GetBytes(Get + RawClient.UpgradeRequest()), .. ClientFrames.Build(0x81, "early"u8)]); // FIN=1, Text(0x1)

        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 101", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        var (b0, payload) = await peer.ReadFrameAsync();
        Assert.Equal((0x81, "early"), (b0, Encoding.UTF8.GetString(payload)));
    }

    [Theory]
    [InlineData("Origin: https://evil.example\r\n", "13", RawClient.SampleKey, "HTTP/1.1 403")]
    [InlineData("", "8", RawClient.SampleKey, "HTTP/1.1 426")]
    [InlineData("", "13", "", "HTTP/1.1 400")]
    [InlineData("X-Pad: oversize\r\n", "13", RawClient.SampleKey, "HTTP/1.1 431")]
    [InlineData("Origin: https://good.example\r\n", "13", RawClient.SampleKey, "HTTP/1.1 101")]
    public async Task Upgrade_ChecksOnALaterRequest_AnswerAsOnAFirstRequest(string headers, string version, string key, string expected)
    {
        var options = new WebSocketTransportOptions { AllowedOrigins = ["https://good.example"], MaxRequestHeadBytes = 1024 };
        await using var server = await EchoServer.StartAsync(options);
        if (headers == "X-Pad: oversize\r\n")
        {
            headers = "X-Pad: " + new string('a', 1024) + "\r\n";
        }

        var request = RawClient.UpgradeRequest(headers, key, version);
        using var first = await RawClient.ConnectAsync(server.Port);
        await first.SendAsync(request);
        var onFirst = await first.ReadResponseAsync();
        using var later = await RawClient.ConnectAsync(server.Port);
        await later.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await later.ReadResponseAsync(), StringComparison.Ordinal);
        await later.SendAsync(request);
        var onLater = await later.ReadResponseAsync();

        Assert.StartsWith(expected, onFirst, StringComparison.Ordinal);
        Assert.Equal(onFirst, onLater); // both written by the transport: byte for byte the same answer
        if (expected != "HTTP/1.1 101")
        {
            Assert.Contains("Connection: close", onLater, StringComparison.Ordinal);
            Assert.True(await later.DrainUntilClosedAsync(TimeSpan.FromSeconds(5)), "the refused connection stayed open");
        }
    }

    [Fact]
    public async Task Upgrade_NearFileDescriptorLimitAfterAGet_Returns503()
    {
        FileDescriptorLimit.Raise();

        // As in TransportFunctionalTests: a reserve of the whole limit refuses every upgrade, sheds no plain connection.
        await using var server = await EchoServer.StartAsync(new WebSocketTransportOptions { FileDescriptorReserve = (int)Math.Min(FileDescriptorLimit.Limit, int.MaxValue) });
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(Get + RawClient.UpgradeRequest());

        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 503", await peer.ReadResponseAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandshakeTimeoutOneSecond_HalfUpgradeHeadAfterAGet_ClosedAfterAboutOneSecond()
    {
        await using var server = await EchoServer.StartAsync(new WebSocketTransportOptions { HandshakeTimeoutSeconds = 1 });
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        await peer.SendAsync("GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n");
        bool closed = await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(8));

        Assert.True(closed, "a stalled upgrade head on a keep-alive connection kept it for 8 s");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
    }

    [Fact]
    public async Task KeepAlive_HundredSequentialRequests_AllAnsweredThenUpgrades()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        for (int i = 0; i < 100; i++)
        {
            var request = i % 2 == 0
                ? $"GET /n/{i} HTTP/1.1\r\nHost: localhost\r\n\r\n"
                : $"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {i.ToString(System.Globalization.CultureInfo.InvariantCulture).Length}\r\n\r\n{i}";
            await peer.SendAsync(request);
            var response = await peer.ReadResponseAsync();
            Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\n" + i, response, StringComparison.Ordinal);
        }

        await peer.SendAsync(RawClient.UpgradeRequest());
        Assert.StartsWith("HTTP/1.1 101", await peer.ReadResponseAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_PipelinedAfterConnectionClose_NotTaken()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        // RFC 9112 §9.6: after "Connection: close" the server closes; what follows is never processed.
        await peer.SendAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" + RawClient.UpgradeRequest());
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.True(await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(5)), "the connection stayed open after Connection: close");
    }

    [Theory]
    [InlineData("Content-Length: nine")]
    [InlineData("Content-Length: 3\r\nContent-Length: 4")]
    [InlineData("Transfer-Encoding: gzip")]
    public async Task Upgrade_AfterARequestWithoutClearLength_KestrelAnswersAndTheUpgradeIsNotTaken(string framing)
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync($"POST /echo HTTP/1.1\r\nHost: localhost\r\n{framing}\r\n\r\nabc" + RawClient.UpgradeRequest());
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 4", response, StringComparison.Ordinal); // Kestrel's own 400 (or 411)
        Assert.True(await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(5)), "the connection stayed open after a request Kestrel refused");
    }

    [Fact]
    public async Task KestrelKeepAliveTimeoutTwoSeconds_IdleAfterARequest_StillClosesTheConnection()
    {
        // Kestrel's timeouts run on its per-connection heartbeat, which reaches it through HeartbeatGate.
        await using var server = await EchoServer.StartAsync(limits: l => l.KeepAliveTimeout = TimeSpan.FromSeconds(2));
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        bool closed = await peer.DrainUntilClosedAsync(TimeSpan.FromSeconds(10));

        Assert.True(closed, "an idle keep-alive connection outlived Kestrel's 2 s keep-alive timeout by 8 s");
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 6);
    }

    [Fact]
    public async Task KestrelRequestHeadersTimeoutOneSecond_HeadStalledMidLineAfterARequest_Answers408()
    {
        await using var server = await EchoServer.StartAsync(limits: l => l.RequestHeadersTimeout = TimeSpan.FromSeconds(1));
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);

        // The request line reaches Kestrel (its header timeout starts); the incomplete field line is held back.
        await peer.SendAsync("GET /hello HTTP/1.1\r\nHost: loc");

        Assert.StartsWith("HTTP/1.1 408", await peer.ReadResponseAsync().WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade_AfterAGet_KestrelsStateForThatConnectionIsCollectedWhileTheSocketLives()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.SendAsync(Get);
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        await peer.UpgradeAsync();
        await AssertEchoesAsync(peer, "alive");
        Assert.True(server.RequestStates.TryDequeue(out var state));

        // Through IHttpUpgradeFeature, or with Kestrel's heartbeat registration left on the connection, this
        // state (several KiB) would live as long as the socket does (docs/design.md §7: 11.7 KiB against 5.8 KiB).
        for (int i = 0; i < 20 && state.IsAlive; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }

        Assert.False(state.IsAlive, "Kestrel's HTTP state of the upgraded connection is still reachable");
        await AssertEchoesAsync(peer, "still alive");
    }

    private static async Task AssertEchoesAsync(RawClient peer, string text)
    {
        await peer.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes(text))); // FIN=1, Text(0x1), masked
        var (b0, payload) = await peer.ReadFrameAsync();
        Assert.Equal((0x81, text), (b0, Encoding.UTF8.GetString(payload)));
    }
}
