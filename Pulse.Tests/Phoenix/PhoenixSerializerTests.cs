using static Pulse.Tests.Phoenix.PhoenixTestKit;

namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public class PhoenixSerializerTests
{
    [Fact]
    public void DecodeV2_PhoenixJsJoin_ReadsEveryField()
    {
        bool ok = PhoenixSerializer.V2.TryDecode(Utf8("""["1","2","event:abc","phx_join",{"a":[1,2]}]"""), out var m);

        Assert.True(ok);
        Assert.Equal("1", m.JoinRef);
        Assert.Equal("2", m.Ref);
        Assert.Equal("event:abc", m.Topic);
        Assert.Equal("phx_join", m.Event);
        Assert.Equal("""{"a":[1,2]}""", Encoding.UTF8.GetString(m.Payload.Span));
    }

    [Fact]
    public void DecodeV2_HeartbeatWithNullJoinRef_Decodes()
    {
        Assert.True(PhoenixSerializer.V2.TryDecode(Utf8("""[null,"7","phoenix","heartbeat",{}]"""), out var m));
        Assert.Null(m.JoinRef);
        Assert.Equal("7", m.Ref);
        Assert.Same(PhoenixNames.Heartbeat, m.Event);
        Assert.Same(PhoenixNames.PhoenixTopic, m.Topic);
    }

    [Theory]
    [InlineData("\"s\"")]
    [InlineData("12.5")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[1,{\"x\":[]}]")]
    public void DecodeV2_AnyPayloadValue_KeptRaw(string payload)
    {
        Assert.True(PhoenixSerializer.V2.TryDecode(Utf8($"[\"1\",\"1\",\"t\",\"e\",{payload}]"), out var m));
        Assert.Equal(payload, Encoding.UTF8.GetString(m.Payload.Span));
    }

    [Fact]
    public void DecodeV2_NumericRefs_KeptAsText()
    {
        Assert.True(PhoenixSerializer.V2.TryDecode(Utf8("""[3,42,"t","e",{}]"""), out var m));
        Assert.Equal("3", m.JoinRef);
        Assert.Equal("42", m.Ref);
    }

    [Fact]
    public void DecodeV2_FragmentedSequence_SameResult()
    {
        Assert.True(PhoenixSerializer.V2.TryDecode(Fragmented("""["1","2","event:x","phx_join",{"k":"v"}]"""), out var m));
        Assert.Equal("event:x", m.Topic);
        Assert.Equal("""{"k":"v"}""", Encoding.UTF8.GetString(m.Payload.Span));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("[\"1\"]")]
    [InlineData("[\"1\",\"2\"]")]
    [InlineData("[{},\"2\",\"t\",\"e\",{}]")]
    [InlineData("[true,\"2\",\"t\",\"e\",{}]")]
    [InlineData("[\"1\",[],\"t\",\"e\",{}]")]
    public void DecodeV2_MalformedWithoutRefAndTopic_NothingToAnswer(string text)
    {
        Assert.False(PhoenixSerializer.V2.TryDecode(Utf8(text), out var m));
        Assert.True(m.Ref is null || m.Topic is null);
    }

    [Theory]
    [InlineData("[\"1\",\"2\",\"t\"]")]                          // 3 elements
    [InlineData("[\"1\",\"2\",\"t\",\"e\"]")]                    // 4 elements
    [InlineData("[\"1\",\"2\",\"t\",\"e\",{},5]")]                // 6 elements
    [InlineData("[\"1\",\"2\",\"t\",7,{}]")]                      // event not a string
    [InlineData("[\"1\",\"2\",\"t\",null,{}]")]                   // event null
    [InlineData("[\"1\",\"2\",\"t\",\"e\",{\"a\":]")]             // broken payload
    [InlineData("[\"1\",\"2\",\"t\",\"e\",{}")]                   // unterminated
    [InlineData("[\"1\",\"2\",\"t\",\"\\ud800\",{}]")]            // event with a lone surrogate
    [InlineData("[\"1\",\"2\",\"t\",\"e\",{}][1]")]               // a second value
    [InlineData("[\"1\",\"2\",\"t\",\"e\",{}] x")]                // trailing garbage
    public void DecodeV2_MalformedAfterTopic_KeepsRefsAndTopic(string text)
    {
        Assert.False(PhoenixSerializer.V2.TryDecode(Utf8(text), out var m));
        Assert.Equal("1", m.JoinRef);
        Assert.Equal("2", m.Ref);
        Assert.Equal("t", m.Topic);
        Assert.True(m.Payload.IsEmpty);
    }

    [Fact]
    public void DecodeV2_TopicNotString_NoTopic()
    {
        Assert.False(PhoenixSerializer.V2.TryDecode(Utf8("""["1","2",5,"e",{}]"""), out var m));
        Assert.Equal("2", m.Ref);
        Assert.Null(m.Topic);
    }

    [Fact]
    public void DecodeV1_AnyKeyOrderAndUnknownKeys_Decodes()
    {
        const string text = """{"payload":{"x":1},"extra":[1,{"y":2}],"ref":"5","event":"phx_join","topic":"event:a","join_ref":"4"}""";

        Assert.True(PhoenixSerializer.V1.TryDecode(Utf8(text), out var m));
        Assert.Equal(new PhoenixMessage("4", "5", "event:a", "phx_join", m.Payload), m);
        Assert.Equal("""{"x":1}""", Encoding.UTF8.GetString(m.Payload.Span));
    }

    [Fact]
    public void DecodeV1_MissingRefAndJoinRef_Null()
    {
        Assert.True(PhoenixSerializer.V1.TryDecode(Utf8("""{"topic":"phoenix","event":"heartbeat","payload":{}}"""), out var m));
        Assert.Null(m.Ref);
        Assert.Null(m.JoinRef);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{")]
    [InlineData("{\"topic\":\"t\",\"event\":\"e\"}")]                                  // no payload
    [InlineData("{\"topic\":\"t\",\"payload\":{},\"ref\":\"1\"}")]                     // no event
    [InlineData("{\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}")]                     // no topic
    [InlineData("{\"topic\":null,\"event\":\"e\",\"payload\":{},\"ref\":\"1\"}")]      // topic null
    [InlineData("{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":{}}")]        // ref an object
    [InlineData("{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}}{}")]                  // two values
    public void DecodeV1_Malformed_False(string text)
    {
        Assert.False(PhoenixSerializer.V1.TryDecode(Utf8(text), out _));
    }

    [Fact]
    public void DecodeV1_MalformedAfterRefAndTopic_KeepsThem()
    {
        Assert.False(PhoenixSerializer.V1.TryDecode(Utf8("""{"ref":"9","topic":"t","event":3,"payload":{}}"""), out var m));
        Assert.Equal("9", m.Ref);
        Assert.Equal("t", m.Topic);
    }

    [Fact]
    public void EncodeV2_Replies_ExactBytes()
    {
        Assert.Equal("""["1","2","t","phx_reply",{"status":"ok","response":{}}]""",
            Encode(PhoenixSerializer.V2, w => PhoenixSerializer.V2.WriteOkReply(w, "1", "2", "t")));
        Assert.Equal("""[null,"2","t","phx_reply",{"status":"error","response":{"reason":"not found"}}]""",
            Encode(PhoenixSerializer.V2, w => PhoenixSerializer.V2.WriteErrorReply(w, null, "2", "t", JsonEncodedText.Encode("not found"))));
        Assert.Equal("""["3","3","t","phx_close",{}]""",
            Encode(PhoenixSerializer.V2, w => PhoenixSerializer.V2.WriteClose(w, "3", "t")));
        Assert.Equal("""[null,null,"t","update",{"total":1}]""",
            Encode(PhoenixSerializer.V2, w => PhoenixSerializer.V2.WriteBroadcast(w, "t", "update", """{"total":1}"""u8)));
        Assert.Equal("""["1","2","t","phx_reply",{"status":"ok","response":{"channel":"t","params":{"p":1},"snapshot":{"s":2}}}]""",
            Encode(PhoenixSerializer.V2, w => PhoenixSerializer.V2.WriteJoinReply(w, "1", "2", "t", """{"p":1}"""u8, """{"s":2}"""u8)));
    }

    [Fact]
    public void EncodeV1_Replies_ExactBytes()
    {
        Assert.Equal("""{"topic":"t","event":"phx_reply","ref":"2","join_ref":"1","payload":{"status":"ok","response":{}}}""",
            Encode(PhoenixSerializer.V1, w => PhoenixSerializer.V1.WriteOkReply(w, "1", "2", "t")));
        Assert.Equal("""{"topic":"t","event":"phx_close","ref":"3","join_ref":"3","payload":{}}""",
            Encode(PhoenixSerializer.V1, w => PhoenixSerializer.V1.WriteClose(w, "3", "t")));
        Assert.Equal("""{"topic":"t","event":"update","ref":null,"join_ref":null,"payload":[1]}""",
            Encode(PhoenixSerializer.V1, w => PhoenixSerializer.V1.WriteBroadcast(w, "t", "update", "[1]"u8)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EncodeThenDecode_EventNameNeedingEscapes_RoundTrips(int version)
    {
        var serializer = PhoenixSerializer.For((PhoenixVersion)version);
        const string name = "quote\" back\\slash \u00e9 \u2028 <tag>";
        string text = Encode(serializer, w => serializer.WriteBroadcast(w, "event:x", name, """{"a":"\u00e9"}"""u8));

        Assert.True(serializer.TryDecode(Utf8(text), out var m));
        Assert.Equal(name, m.Event);
        Assert.Null(m.Ref);
        Assert.Equal("""{"a":"\u00e9"}""", Encoding.UTF8.GetString(m.Payload.Span));
    }

    private static string Encode(PhoenixSerializer serializer, Action<Utf8JsonWriter> write)
    {
        var writer = JsonScratch.Begin();
        write(writer);
        var text = Encoding.UTF8.GetString(JsonScratch.End(writer));
        using var parsed = JsonDocument.Parse(text); // every encoding is valid JSON
        Assert.Equal(serializer.Version == PhoenixVersion.V2 ? JsonValueKind.Array : JsonValueKind.Object, parsed.RootElement.ValueKind);
        return text;
    }
}
