using System.Net.Http;
using System.Net.WebSockets;

namespace Pulse.Tests.WebSockets;

[Trait("Category", "socket")] public sealed class TransportFunctionalTests
{
    [Fact]
    public async Task Handshake_ValidRequest_Returns101WithAccept()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(RawClient.UpgradeRequest());
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response, StringComparison.Ordinal); // §1.3 example
    }

    [Theory]
    [InlineData("8", "", "", "HTTP/1.1 426")]
    [InlineData("13", "", "", "HTTP/1.1 400")]                           // missing key
    [InlineData("13", "AAECAwQFBgcICQoLDA0O", "", "HTTP/1.1 400")]       // 15-byte key
    [InlineData("13", RawClient.SampleKey, "Origin: https://evil.example\r\n", "HTTP/1.1 403")]
    [InlineData("13", RawClient.SampleKey, "Origin: https://good.example\r\n", "HTTP/1.1 101")]
    public async Task Handshake_Checks_AnswerWithStatus(string version, string key, string headers, string expected)
    {
        await using var server = await EchoServer.StartAsync(new WebSocketTransportOptions { AllowedOrigins = ["https://good.example"] });
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(RawClient.UpgradeRequest(headers, key, version));
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith(expected, response, StringComparison.Ordinal);
        if (expected != "HTTP/1.1 101")
        {
            Assert.Contains("Content-Type: application/json; charset=utf-8", response, StringComparison.Ordinal);
            Assert.Contains("{\"error\":", response, StringComparison.Ordinal);
            Assert.Contains("Connection: close", response, StringComparison.Ordinal);
        }

        if (expected == "HTTP/1.1 426")
        {
            Assert.Contains("Sec-WebSocket-Version: 13", response, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Handshake_FactoryRefuses_Returns400WithItsError()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(RawClient.UpgradeRequest(path: "/socket/websocket?vsn=refuse"));
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.EndsWith("{\"error\":\"unsupported vsn\"}", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_NearFileDescriptorLimit_Returns503()
    {
        FileDescriptorLimit.Raise();

        // A reserve of the whole limit: every upgrade is past Limit − Reserve (503), while plain connections
        // are shed only past Limit − Reserve / 2, half the limit, which this test process never holds.
        await using var server = await EchoServer.StartAsync(new WebSocketTransportOptions { FileDescriptorReserve = (int)Math.Min(FileDescriptorLimit.Limit, int.MaxValue) });
        using var peer = await RawClient.ConnectAsync(server.Port);

        await peer.SendAsync(RawClient.UpgradeRequest());
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 503", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpRequest_OnTheSamePort_ReachesTheHttpPipeline()
    {
        await using var server = await EchoServer.StartAsync();
        using var http = new HttpClient();

        var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.Port}/hello"));

        Assert.Equal("hi", body);
    }

    [Theory]
    [MemberData(nameof(FrameReaderTests.Violations), MemberType = typeof(FrameReaderTests))]
    public async Task HostilePeer_Violation_ServerClosesWithCode(string name, byte[] input, ushort expected)
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.UpgradeAsync();

        await peer.SendAsync(input);

        Assert.True(expected == await peer.ReadCloseCodeAsync(), name);
        Assert.True(await peer.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData(65_537, 1009)]
    public async Task HostilePeer_DeclaresTooLong_ServerClosesWith1009(int length, int expected)
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.UpgradeAsync();

        await peer.SendAsync(ClientFrames.Build(0x81, [], declaredLength: length)); // header only

        Assert.Equal(expected, await peer.ReadCloseCodeAsync());
    }

    [Fact]
    public async Task HostilePeer_Ping_GetsPongWithSamePayload()
    {
        await using var server = await EchoServer.StartAsync();
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.UpgradeAsync();

        await peer.SendAsync(ClientFrames.Build(0x89, "are you there"u8)); // FIN=1, Ping(0x9)
        var (b0, payload) = await peer.ReadFrameAsync();

        Assert.Equal(0x8A, b0); // FIN=1, Pong(0xA)
        Assert.Equal("are you there", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task Heartbeat_SilentPeer_ClosedWith1000()
    {
        var time = new FakeTimeProvider();
        await using var server = await EchoServer.StartAsync(time: time);
        using var peer = await RawClient.ConnectAsync(server.Port);
        await peer.UpgradeAsync();
        await peer.SendAsync(ClientFrames.Build(0x89, []));
        await peer.ReadFrameAsync(); // the pong: the socket is registered with the heartbeat

        time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal(1000, await peer.ReadCloseCodeAsync());
    }

    [Fact]
    public async Task ClientWebSocket_EchoAndCleanClose_Works()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.WebSocketUri, CancellationToken.None);

        await client.SendAsync("héllo €"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("héllo €", await ReceiveTextAsync(client));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task ClientWebSocket_MessageAtTheLimit_IsEchoed()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.WebSocketUri, CancellationToken.None);
        var text = new string('x', 65_536);

        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(text, await ReceiveTextAsync(client));
    }

    [Fact]
    public async Task ClientWebSocket_KeepAlivePings_AreAnswered()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.FromMilliseconds(100);
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(2); // aborts the socket if a pong is missing
        await client.ConnectAsync(server.WebSocketUri, CancellationToken.None);

        await Task.Delay(TimeSpan.FromSeconds(1));
        await client.SendAsync("still here"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal("still here", await ReceiveTextAsync(client));
    }

    [Fact]
    public async Task ClientWebSocket_ServerCloses_ReportsItsCode()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.WebSocketUri, CancellationToken.None);

        await client.SendAsync("close"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var result = await client.ReceiveAsync(new byte[16], CancellationToken.None);

        Assert.Equal((WebSocketMessageType.Close, (WebSocketCloseStatus)4000), (result.MessageType, result.CloseStatus));
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[100_000];
        int length = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), timeout.Token);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
