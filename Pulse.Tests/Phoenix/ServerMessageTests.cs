using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Phoenix;

/// <summary>docs/design.md §7 over real sockets: heartbeat, leave, broadcasts, and malformed input.</summary>
[Trait("Category", "socket")] public sealed class ServerMessageTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Heartbeat_OnTopicPhoenix_RepliesOk()
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        var before = await client.HeartbeatAsync("41");

        Assert.Empty(before);
    }

    [Fact]
    public async Task Broadcast_AfterInsertAndPost_ArrivesWithTheExactNewNumbers()
    {
        var (eventId, keywords) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";
        var joined = (await client.JoinAsync(topic, "1")).Json;
        long joinedVersion = joined[4].GetProperty("response").GetProperty("snapshot").GetProperty("version").GetInt64();

        await database.InsertEntryAsync(DateTime.UtcNow, keywords["#RM"]);
        await database.InsertEntryAsync(DateTime.UtcNow, keywords["#Visca"], keywords["#ForçaBarça"]);
        await WireScenario.NotifyAsync(server, eventId, "new_tweets");
        var (broadcast, _) = await client.ReceiveUntilAsync(m => WireScenario.IsBroadcast(m, topic, "new_tweets"));

        var model = broadcast.Json[4];
        await WireScenario.AssertModelEqualsSqlAsync(database, eventId, model);
        Assert.Equal(5, model.GetProperty("total").GetInt32());
        Assert.True(model.GetProperty("version").GetInt64() > joinedVersion);
    }

    [Fact]
    public async Task Leave_Joined_RepliesOkThenPhxCloseAndNoFurtherBroadcast()
    {
        var (eventId, keywords) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var leaver = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        await using var witness = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";
        await leaver.JoinAsync(topic, "1");
        await witness.JoinAsync(topic, "1");

        await leaver.SendTextAsync($"[\"1\",\"2\",\"{topic}\",\"phx_leave\",{{}}]");
        var reply = (await leaver.NextAsync()).Json;
        var close = (await leaver.NextAsync()).Json;
        await database.InsertEntryAsync(DateTime.UtcNow, keywords["#RM"]);
        await WireScenario.NotifyAsync(server, eventId, "after_leave");
        await witness.ReceiveUntilAsync(m => WireScenario.IsBroadcast(m, topic, "after_leave"));
        var leaverSawMeanwhile = await leaver.HeartbeatAsync("3");

        Assert.Equal($$$"""["1","2","{{{topic}}}","phx_reply",{"status":"ok","response":{}}]""", reply.GetRawText());
        Assert.Equal($$$"""["1","1","{{{topic}}}","phx_close",{}]""", close.GetRawText());
        Assert.Empty(leaverSawMeanwhile);
    }

    [Fact]
    public async Task OtherEvent_OnJoinedTopic_RepliesUnknownEventAndStaysJoined()
    {
        var (eventId, keywords) = await WireScenario.RunningEventAsync(database);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        string topic = $"event:{eventId}";
        await client.JoinAsync(topic, "1");

        await client.SendTextAsync($"[\"1\",\"2\",\"{topic}\",\"shout\",{{}}]");
        var reply = (await client.NextAsync()).Json;

        // A POST whose numbers did not change broadcasts nothing (no new version): change them first.
        await database.InsertEntryAsync(DateTime.UtcNow, keywords["#Visca"]);
        await WireScenario.NotifyAsync(server, eventId, "still_joined");
        var (broadcast, _) = await client.ReceiveUntilAsync(m => WireScenario.IsBroadcast(m, topic, "still_joined"));

        Assert.Equal($$$"""["1","2","{{{topic}}}","phx_reply",{"status":"error","response":{"reason":"unknown event"}}]""", reply.GetRawText());
        Assert.Equal(JsonValueKind.Object, broadcast.Json[4].ValueKind);
    }

    [Theory]
    [InlineData("not json at all", null)]
    [InlineData("[\"1\",\"7\",\"phoenix\",\"heartbeat\"", """["1","7","phoenix","phx_reply",{"status":"error","response":{"reason":"malformed message"}}]""")] // truncated after its topic
    [InlineData("{\"topic\":\"phoenix\",\"event\":\"heartbeat\"}", null)]         // an object on V2
    [InlineData("42", null)]
    [InlineData("[]", null)]
    [InlineData("[\"1\",\"7\",\"phoenix\",\"heartbeat\"]", """["1","7","phoenix","phx_reply",{"status":"error","response":{"reason":"malformed message"}}]""")]
    [InlineData("[\"1\",\"7\",\"phoenix\",\"heartbeat\",{},6]", """["1","7","phoenix","phx_reply",{"status":"error","response":{"reason":"malformed message"}}]""")]
    [InlineData("[null,\"7\",\"room:x\",42,{}]", """[null,"7","room:x","phx_reply",{"status":"error","response":{"reason":"malformed message"}}]""")]
    public async Task Malformed_Message_SocketStaysUpAndAnswersWhenRefAndTopicPresent(string message, string? expectedReply)
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());

        await client.SendTextAsync(message);
        var before = await client.HeartbeatAsync("99");

        if (expectedReply is null)
        {
            Assert.Empty(before);
        }
        else
        {
            Assert.Equal(expectedReply, Assert.Single(before).Text);
        }
    }

    [Fact]
    public async Task Malformed_V1Messages_IgnoredOrAnsweredAsObjectsAndSocketStaysUp()
    {
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri("1.0.0"));

        await client.SendTextAsync("""[null,"1","phoenix","heartbeat",{}]""");                   // a V2 array on V1: no ref/topic read
        await client.SendTextAsync("""{"topic":"phoenix","event":"heartbeat","ref":"7"}""");      // no payload
        var reply = (await client.NextAsync()).Json;
        await client.SendTextAsync("""{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"8"}""");
        var heartbeat = (await client.NextAsync()).Json;

        Assert.Equal("""{"topic":"phoenix","event":"phx_reply","ref":"7","join_ref":null,"payload":{"status":"error","response":{"reason":"malformed message"}}}""", reply.GetRawText());
        Assert.Equal("8", heartbeat.GetProperty("ref").GetString());
        Assert.Equal("ok", heartbeat.GetProperty("payload").GetProperty("status").GetString());
    }
}
