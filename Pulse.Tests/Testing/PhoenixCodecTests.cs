namespace Pulse.Tests.Testing;

/// <summary>The shared Phoenix V1/V2 codec (Pulse.Testing): escaping on the way out, the fields on the way in.</summary>
[Trait("Category", "unit")] public sealed class PhoenixCodecTests
{
    [Fact]
    public void EncodeV2_TopicWithQuotesBackslashAndControl_EscapedValidJson()
    {
        string topic = "event:\"a\\b\n";

        var bytes = PhoenixV2Codec.Encode("1", null, topic, "phx_join", """{"k":[1]}""");

        using var json = JsonDocument.Parse(bytes);
        Assert.Equal(["1", null, topic, "phx_join"], json.RootElement.EnumerateArray().Take(4).Select(e => e.GetString()));
        Assert.Equal("""{"k":[1]}""", json.RootElement[4].GetRawText());
    }

    [Fact]
    public void EncodeV2_PayloadNotJson_Refused() =>
        Assert.ThrowsAny<JsonException>(() => PhoenixV2Codec.Encode("1", "1", "t", "e", "{not json"));

    [Fact]
    public void TryDecode_V2Broadcast_FieldsStatusVersionAndPayloadSpan()
    {
        var text = """[null,null,"event:x","update",{"version":7,"status":"ok","nested":{"version":9}}]"""u8;

        Assert.True(PhoenixV2Codec.TryDecode(text, out var message));
        Assert.Equal((null, null, "event:x", "update", "ok", 7L), (message.JoinRef, message.Ref, message.Topic, message.Event, message.Status, message.Version));
        Assert.Equal("""{"version":7,"status":"ok","nested":{"version":9}}""", Encoding.UTF8.GetString(message.Payload));
    }

    [Theory]
    [InlineData("""{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}""")] // V1
    [InlineData("""[null,1,"phoenix","heartbeat",{}]""")] // a number where a ref goes
    [InlineData("""[null,"1","phoenix","heartbeat",[]]""")] // an array payload
    [InlineData("""[null,"1","phoenix","heartbeat",{}""")] // cut short
    public void TryDecode_NotV2_False(string text) =>
        Assert.False(PhoenixV2Codec.TryDecode(Encoding.UTF8.GetBytes(text), out _));

    [Fact]
    public void EncodeV1_RoundTripsThroughTryDecode()
    {
        var bytes = PhoenixV1Codec.Encode("3", "4", "event:\"x\"", "phx_join", """{"a":1}""");

        using var json = JsonDocument.Parse(bytes);
        Assert.True(PhoenixV1Codec.TryDecode(json.RootElement, out var joinRef, out var @ref, out var topic, out var @event, out var payload));
        Assert.Equal(("3", "4", "event:\"x\"", "phx_join", """{"a":1}"""), (joinRef, @ref, topic, @event, payload.GetRawText()));
    }

    [Fact]
    public void InboxMessageParse_JoinReply_ViewModelOfTheSnapshot()
    {
        var reply = """["1","1","event:x","phx_reply",{"status":"ok","response":{"snapshot":{"version":3,"total":5,"queries":[{"query":"A","count":5}]}}}]"""u8;

        var message = InboxMessage.Parse(reply, receivedAt: 42);

        Assert.Equal(("1", "ok", 3L, 5, 5L, 42L), (message.Ref, message.Status, message.Version, message.Total, message.TotalOrNull, message.ReceivedAt));
        Assert.Equal(5, message.Counts["A"]);
    }
}
