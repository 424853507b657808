using Pulse.Tests.Infrastructure;
using Pulse.Tests.WebSockets;
using TestServer = Pulse.Tests.Infrastructure.TestServer;

namespace Pulse.Tests.Phoenix;

/// <summary>docs/design.md §7 over real sockets against the whole server: vsn, join and its error replies.</summary>
[Trait("Category", "socket")] public sealed class ServerJoinTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Join_V2KnownEvent_RepliesOkWithChannelParamsAndSnapshotEqualToSql()
    {
        var (eventId, _) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";

        var reply = (await client.JoinAsync(topic, "1", """{"client":"wire","n":[1,2]}""")).Json;

        Assert.Equal("1", reply[0].GetString());
        Assert.Equal(topic, reply[2].GetString());
        var payload = reply[4];
        Assert.Equal("ok", payload.GetProperty("status").GetString());
        var response = payload.GetProperty("response");
        Assert.Equal(["channel", "params", "snapshot"], response.EnumerateObject().Select(p => p.Name));
        Assert.Equal(topic, response.GetProperty("channel").GetString());
        Assert.Equal("""{"client":"wire","n":[1,2]}""", response.GetProperty("params").GetRawText());
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, response.GetProperty("snapshot"));
        Assert.Equal(3, response.GetProperty("snapshot").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Join_V1_SpeaksObjectMessages()
    {
        var (eventId, _) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri("1.0.0"));

        await client.SendTextAsync($$$"""{"topic":"event:{{{eventId}}}","event":"phx_join","payload":{"a":1},"ref":"7","join_ref":"7"}""");
        var reply = (await client.NextAsync()).Json;
        await client.SendTextAsync("""{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"8"}""");
        var heartbeat = (await client.NextAsync()).Json;

        Assert.Equal(JsonValueKind.Object, reply.ValueKind);
        Assert.Equal($"event:{eventId}", reply.GetProperty("topic").GetString());
        Assert.Equal("phx_reply", reply.GetProperty("event").GetString());
        Assert.Equal("7", reply.GetProperty("ref").GetString());
        Assert.Equal("ok", reply.GetProperty("payload").GetProperty("status").GetString());
        Assert.Equal("""{"a":1}""", reply.GetProperty("payload").GetProperty("response").GetProperty("params").GetRawText());
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, reply.GetProperty("payload").GetProperty("response").GetProperty("snapshot"));
        Assert.Equal("phoenix", heartbeat.GetProperty("topic").GetString());
        Assert.Equal("8", heartbeat.GetProperty("ref").GetString());
        Assert.Equal("""{"status":"ok","response":{}}""", heartbeat.GetProperty("payload").GetRawText());
    }

    [Fact]
    public async Task Connect_WithoutVsn_SpeaksV1()
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/socket/websocket"));

        await client.SendTextAsync("""{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}""");
        var reply = (await client.NextAsync()).Json;

        Assert.Equal(JsonValueKind.Object, reply.ValueKind);
        Assert.Equal("phx_reply", reply.GetProperty("event").GetString());
        Assert.Equal("1", reply.GetProperty("ref").GetString());
    }

    [Theory]
    [InlineData("?vsn=3.0.0", "HTTP/1.1 400")]
    [InlineData("?vsn=", "HTTP/1.1 400")]
    [InlineData("?vsn=2.0", "HTTP/1.1 400")]
    [InlineData("?vsn=2.0.0", "HTTP/1.1 101")]
    [InlineData("?vsn=1.0.3", "HTTP/1.1 101")]
    public async Task Upgrade_Vsn_RefusedWith400BeforeTheUpgradeUnlessV1OrV2(string query, string expected)
    {
        await using var server = await TestServer.StartAsync(database);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);

        await peer.SendAsync(RawClient.UpgradeRequest(path: "/socket/websocket" + query));
        var response = await peer.ReadResponseAsync();

        Assert.StartsWith(expected, response, StringComparison.Ordinal);
        if (expected.EndsWith("400", StringComparison.Ordinal))
        {
            Assert.EndsWith("""{"error":"unsupported vsn"}""", response, StringComparison.Ordinal);
            Assert.True(await peer.IsClosedByServerAsync());
        }
    }

    [Fact]
    public async Task Join_UnknownEvent_RepliesNotFound()
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var id = Guid.NewGuid();

        var reply = (await client.JoinAsync($"event:{id}", "3")).Json;

        Assert.Equal($$$"""["3","3","event:{{{id}}}","phx_reply",{"status":"error","response":{"reason":"not found"}}]""", reply.GetRawText());
        await client.HeartbeatAsync("4");
    }

    [Theory]
    [InlineData("room:lobby")]
    [InlineData("event:not-a-uuid")]
    [InlineData("event:")]
    [InlineData("phoenix")]
    public async Task Join_TopicNotEventUuid_RepliesUnmatchedTopic(string topic)
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        var reply = (await client.JoinAsync(topic, "1")).Json;

        Assert.Equal($$$"""["1","1","{{{topic}}}","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}]""", reply.GetRawText());
    }

    [Fact]
    public async Task Join_UpperCaseId_AcceptedUnderTheLowerCaseTopic()
    {
        var (eventId, _) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        var reply = (await client.JoinAsync($"event:{eventId.ToString().ToUpperInvariant()}", "1")).Json;

        Assert.Equal("ok", reply[4].GetProperty("status").GetString());
        Assert.Equal($"event:{eventId}", reply[2].GetString());
        Assert.Equal($"event:{eventId}", reply[4].GetProperty("response").GetProperty("channel").GetString());
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, reply[4].GetProperty("response").GetProperty("snapshot"));
    }

    [Fact]
    public async Task Join_SameTopicTwice_ClosesTheOldJoinRefThenRepliesOk()
    {
        var (eventId, _) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";
        await client.JoinAsync(topic, "1");

        await client.SendTextAsync($"[\"2\",\"2\",\"{topic}\",\"phx_join\",{{}}]");
        var (reply, before) = await client.ReceiveUntilAsync(m => m.Ref == "2");

        // phx_close carries the old join_ref (as its ref too, like Phoenix), and comes before the new reply.
        var close = Assert.Single(before);
        Assert.Equal($$$"""["1","1","{{{topic}}}","phx_close",{}]""", close.Text);
        Assert.Equal("2", reply.Json[0].GetString());
        Assert.Equal("ok", reply.Json[4].GetProperty("status").GetString());
    }
}
