using Pulse.Tests.Infrastructure;
using Pulse.Tests.Pipeline;

namespace Pulse.Tests.WebSockets;

/// <summary>Keep-alive connections against the whole server: REST, then a Phoenix socket on the same connection.</summary>
[Trait("Category", "socket")] public sealed class KeepAliveServerTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Join_AfterRestRequestsOnTheSameConnection_RepliesWithTheSnapshotThenBroadcasts()
    {
        var now = DateTime.UtcNow;
        var (eventId, keywords) = await database.CreateEventAsync("Keep-alive", now.AddMinutes(-5), now.AddHours(1), ("Blue", "#blue"), ("Red", "#red"));
        await database.InsertEntryAsync(now.AddMinutes(-1), keywords["#blue"]);
        await using var server = await Infrastructure.TestServer.StartAsync(database);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        // What a page does before its socket: the API (with the key), the health probe, then the upgrade.
        await peer.SendAsync($"GET /v1/events/{eventId} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {server.ApiKey}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var rest = await peer.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);
        await peer.UpgradeAsync();
        await peer.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($$"""["1","1","event:{{eventId}}","phx_join",{}]""")));
        using var reply = JsonDocument.Parse((await peer.ReadFrameAsync()).Payload);
        await database.InsertEntryAsync(DateTime.UtcNow.AddSeconds(-1), keywords["#red"]);
        await PipelineKit.PostAsync(server, eventId, "after-keep-alive");
        using var broadcast = JsonDocument.Parse((await peer.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10))).Payload);

        Assert.StartsWith("HTTP/1.1 200", rest, StringComparison.Ordinal);
        Assert.Contains("\"total\":1", rest, StringComparison.Ordinal);
        Assert.Equal("ok", reply.RootElement[4].GetProperty("status").GetString());
        Assert.Equal(1, reply.RootElement[4].GetProperty("response").GetProperty("snapshot").GetProperty("total").GetInt32());
        Assert.Equal("after-keep-alive", broadcast.RootElement[3].GetString());
        Assert.Equal(2, broadcast.RootElement[4].GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData(1023, "HTTP/1.1 204")]
    [InlineData(1024, "HTTP/1.1 204")]
    [InlineData(1025, "HTTP/1.1 413")]
    public async Task MaxBodyBytes1024_PostAfterAnotherOnTheSameConnection_413OnlyPastTheLimit(int size, string expected)
    {
        const int limit = 1024;
        var now = DateTime.UtcNow;
        var (eventId, _) = await database.CreateEventAsync("Body limit", now.AddMinutes(-5), now.AddHours(1), ("Blue", "#blue"));
        await using var server = await Infrastructure.TestServer.StartAsync(database, o => o.Http.MaxBodyBytes = limit);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        await peer.SendAsync(Post(server.ApiKey, eventId, 200));
        var first = await peer.ReadResponseAsync();
        await peer.SendAsync(Post(server.ApiKey, eventId, size));
        var second = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 204", first, StringComparison.Ordinal);
        Assert.StartsWith(expected, second, StringComparison.Ordinal);
        if (expected == "HTTP/1.1 413")
        {
            Assert.EndsWith("{\"error\":\"body over 1024 bytes\"}", second, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SocketPath_AbsoluteFormRequestTheTransportDoesNotTake_Answers400Json()
    {
        await using var server = await Infrastructure.TestServer.StartAsync(database);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        // An absolute-form target (RFC 9112 §3.2.2) that Kestrel resolves to /socket/websocket.
        await peer.SendAsync("GET http://localhost/socket/websocket HTTP/1.1\r\nHost: localhost\r\n\r\n");
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json; charset=utf-8", response, StringComparison.Ordinal);
        Assert.EndsWith("""{"error":"/socket/websocket takes only WebSocket upgrades: GET /socket/websocket with Upgrade: websocket"}""", response, StringComparison.Ordinal);
    }

    /// <summary>A POST /v1/events whose body is exactly <paramref name="size"/> bytes (JSON, padded with trailing spaces).</summary>
    private static string Post(string apiKey, Guid eventId, int size)
    {
        var body = $$$"""{"topic":"event:{{{eventId}}}","event":"padded","payload":{"event_id":"{{{eventId}}}"}}""";
        body += new string(' ', size - body.Length);
        return $"POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {apiKey}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n{body}";
    }
}
