using System.Net.WebSockets;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.WebSockets;
using TestServer = Pulse.Tests.Infrastructure.TestServer;

namespace Pulse.Tests.Phoenix;

/// <summary>The configurable limits of docs/design.md §7 against the whole server, over real sockets.</summary>
[Trait("Category", "socket")] public sealed class ServerLimitsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const string Heartbeat = """[null,"1","phoenix","heartbeat",{}]""";

    [Fact]
    public async Task Join_MaxTopicsPerSocketThree_ThirdJoinsFourthRefused()
    {
        var events = new List<Guid>();
        for (int i = 0; i < 4; i++)
        {
            events.Add((await WireScenario.RunningEventAsync(database)).EventId);
        }

        await using var server = await TestServer.StartAsync(database, o => o.WebSocket.MaxTopicsPerSocket = 3);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        var replies = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var reply = (await client.JoinAsync($"event:{events[i]}", $"{i + 1}")).Json;
            replies.Add(reply[4].GetProperty("status").GetString() + (reply[4].GetProperty("response").TryGetProperty("reason", out var r) ? ":" + r.GetString() : string.Empty));
        }

        // N−1 and N join; N+1 is refused; leaving one makes room again.
        Assert.Equal(["ok", "ok", "ok", "error:too many channels joined"], replies);
        await client.SendTextAsync($"[\"1\",\"9\",\"event:{events[0]}\",\"phx_leave\",{{}}]");
        var again = (await client.JoinAsync($"event:{events[3]}", "10")).Json;
        Assert.Equal("ok", again[4].GetProperty("status").GetString());
    }

    [Fact]
    public async Task HeartbeatTimeoutTwoSeconds_SilentSocket_ClosedWith1000WhileAChattySocketStays()
    {
        // Two seconds, a heartbeat every 200 ms: the chatty socket keeps 1.8 s of margin, which a CI run
        // with the whole suite beside needs (with one second and 300 ms it was closed once, its test
        // thread late by more than the 700 ms left).
        await using var server = await TestServer.StartAsync(database, o => o.WebSocket.HeartbeatTimeoutSeconds = 2);
        await using var silent = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        await using var chatty = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        var closing = silent.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 40 && !closing.IsCompleted; i++)
        {
            await chatty.HeartbeatAsync($"{i}");
            await Task.Delay(200);
        }

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await closing);
        Assert.Equal("heartbeat timeout", silent.CloseStatusDescription);
        await chatty.HeartbeatAsync("last");
    }

    [Theory]
    [InlineData(null, "HTTP/1.1 101")]                        // not a browser: accepted
    [InlineData("https://good.example", "HTTP/1.1 101")]
    [InlineData("HTTPS://GOOD.EXAMPLE", "HTTP/1.1 101")]      // ordinal, case-insensitive
    [InlineData("https://evil.example", "HTTP/1.1 403")]
    [InlineData("https://good.example:8443", "HTTP/1.1 403")]
    public async Task AllowedOrigins_Origin_403BeforeTheUpgradeUnlessListed(string? origin, string expected)
    {
        await using var server = await TestServer.StartAsync(database, o => o.WebSocket.AllowedOrigins = ["https://good.example"]);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        await peer.SendAsync(RawClient.UpgradeRequest(origin is null ? string.Empty : $"Origin: {origin}\r\n"));
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith(expected, response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedOrigins_ClientWebSocketFromOtherOrigin_SeesStatus403()
    {
        await using var server = await TestServer.StartAsync(database, o => o.WebSocket.AllowedOrigins = ["https://good.example"]);
        using var socket = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
        socket.Options.SetRequestHeader("Origin", "https://evil.example");

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(server.WebSocketUri(), CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(0, null)]
    [InlineData(1, WebSocketCloseStatus.MessageTooBig)]
    public async Task MaxMessageBytes1024_MessageAroundTheLimit_AcceptedOrClosed1009(int overLimit, WebSocketCloseStatus? expectedClose)
    {
        const int limit = 1024;
        await using var server = await TestServer.StartAsync(database, o => o.WebSocket.MaxMessageBytes = limit);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        // A heartbeat padded with JSON whitespace to exactly limit + overLimit bytes.
        string message = Heartbeat + new string(' ', limit + overLimit - Encoding.UTF8.GetByteCount(Heartbeat));
        await client.SendTextAsync(message);

        if (expectedClose is null)
        {
            var reply = (await client.NextAsync()).Json;
            Assert.Equal("ok", reply[4].GetProperty("status").GetString());
        }
        else
        {
            Assert.Equal(expectedClose, await client.WaitForCloseAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Theory]
    [InlineData("unmasked text", 1002)]
    [InlineData("reserved bit", 1002)]
    [InlineData("invalid utf-8", 1007)]
    [InlineData("binary", 1003)]
    public async Task FrameViolation_ClosesOnlyThatSocketWithItsCodeWhileAnotherKeepsReceiving(string violation, int expectedCode)
    {
        var (eventId, keywords) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var good = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";
        await good.JoinAsync(topic, "1");
        using var bad = await RawClient.ConnectAsync(server.BaseAddress.Port);
        await bad.UpgradeAsync();

        await bad.SendAsync(violation switch
        {
            // FIN=1, Text(0x1), MASK=0: RFC 6455 §5.1, a server must close on an unmasked client frame.
            "unmasked text" => ClientFrames.Build(0x81, Encoding.UTF8.GetBytes(Heartbeat), masked: false),

            // FIN=1, RSV1=1, Text: no extension was negotiated (§5.2).
            "reserved bit" => ClientFrames.Build(0xC1, Encoding.UTF8.GetBytes(Heartbeat)),

            // FIN=1, Text, payload 0xC3 0x28: a lead byte followed by a non-continuation byte (§8.1).
            "invalid utf-8" => ClientFrames.Build(0x81, [0xC3, 0x28]),

            // FIN=1, Binary(0x2): Phoenix messages are text.
            _ => ClientFrames.Build(0x82, Encoding.UTF8.GetBytes(Heartbeat)),
        });
        int code = await bad.ReadCloseCodeAsync();
        await database.InsertEntryAsync(DateTime.UtcNow, keywords["#HalaMadrid"]);
        await WireScenario.NotifyAsync(server, eventId, "after_violation");
        var (broadcast, _) = await good.ReceiveUntilAsync(m => WireScenario.IsBroadcast(m, topic, "after_violation"));

        Assert.Equal(expectedCode, code);
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, broadcast.Json[4]);
        await good.HeartbeatAsync("2");
    }
}
