using System.Buffers;

namespace Pulse.Tests.WebSockets;

[Trait("Category", "unit")] public sealed class FrameReaderTests
{
    private const int Limit = 65_536;

    [Fact]
    public void TryRead_MaskedHelloText_ReturnsUnmaskedText()
    {
        byte[] frame =
        [
            0x81,                   // FIN=1, RSV=0, Text(0x1)
            0x85,                   // MASK=1, payload length=5
            0x37, 0xFA, 0x21, 0x3D, // masking key
            0x7F, 0x9F, 0x4D, 0x51, 0x58, // "Hello" masked (RFC 6455 §5.7 example)
        ];
        using var reader = new FrameReader(Limit);

        var events = FrameReads.ReadAll(reader, frame);

        Assert.Equal((Opcode.Text, "Hello"), (events.Single().Opcode, Encoding.UTF8.GetString(events.Single().Payload)));
    }

    [Theory]
    [InlineData(0)]      // 7-bit length
    [InlineData(125)]    // largest 7-bit length
    [InlineData(126)]    // smallest 16-bit length
    [InlineData(65_535)] // largest 16-bit length
    [InlineData(65_536)] // smallest 64-bit length
    public void TryRead_EveryLengthEncoding_RoundTrips(int length)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26))).ToArray();
        var frame = ClientFrames.Build(0x81, payload); // FIN=1, Text(0x1), MASK=1, len by encoding
        using var reader = new FrameReader(Limit);

        // Fed in chunks of 7 bytes: headers and payload split at every possible point along the way.
        var events = FrameReads.ReadAll(reader, frame, chunk: length > 1000 ? 4099 : 7);

        Assert.Equal(payload, events.Single().Payload);
    }

    [Theory]
    [InlineData(Limit - 1, false)]
    [InlineData(Limit, false)]
    [InlineData(Limit + 1, true)]
    public void TryRead_AtTheSizeLimit_ClosesWith1009OnlyAbove(int length, bool refused)
    {
        // FIN=1, Binary(0x2), MASK=1, 64-bit or 16-bit length; only the header is given for the refused case:
        // the limit must be checked before the payload is waited for.
        var frame = ClientFrames.Build(0x82, new byte[refused ? 0 : length], declaredLength: length);
        using var reader = new FrameReader(Limit);
        var buffer = new ReadOnlySequence<byte>(frame);

        if (refused)
        {
            var ex = Assert.Throws<WebSocketProtocolException>(() => reader.TryRead(ref buffer, out _));
            Assert.Equal(WebSocketCloseCode.MessageTooBig, ex.CloseCode);
        }
        else
        {
            Assert.True(reader.TryRead(ref buffer, out var opcode));
            Assert.Equal((Opcode.Binary, length), (opcode, reader.Payload.Length));
        }
    }

    [Fact]
    public void TryRead_FragmentsAddingUpPastTheLimit_ClosesWith1009()
    {
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, new byte[40_000]),  // FIN=0, Text(0x1)
            ClientFrames.Build(0x00, [], declaredLength: 30_000)); // FIN=0, Continuation(0x0), header only
        using var reader = new FrameReader(Limit);

        var ex = Assert.Throws<WebSocketProtocolException>(() => FrameReads.ReadAll(reader, input));

        Assert.Equal(WebSocketCloseCode.MessageTooBig, ex.CloseCode);
    }

    [Fact]
    public void TryRead_FragmentedWithPingBetween_ReturnsPingThenWholeMessage()
    {
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, "Hel"u8),  // FIN=0, Text(0x1)
            ClientFrames.Build(0x89, "hb"u8),   // FIN=1, Ping(0x9) between fragments (§5.4)
            ClientFrames.Build(0x00, "lo "u8),  // FIN=0, Continuation(0x0)
            ClientFrames.Build(0x80, "you"u8)); // FIN=1, Continuation(0x0)
        using var reader = new FrameReader(Limit);

        var events = FrameReads.ReadAll(reader, input, chunk: 3);

        Assert.Equal(2, events.Count);
        Assert.Equal((Opcode.Ping, "hb"), (events[0].Opcode, Encoding.UTF8.GetString(events[0].Payload)));
        Assert.Equal((Opcode.Text, "Hello you"), (events[1].Opcode, Encoding.UTF8.GetString(events[1].Payload)));
    }

    [Fact]
    public void TryRead_CodePointSplitAcrossFragments_IsValid()
    {
        var euro = "€"u8.ToArray(); // E2 82 AC
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, euro.AsSpan(0, 1)),  // FIN=0, Text(0x1): E2
            ClientFrames.Build(0x00, euro.AsSpan(1, 1)),  // FIN=0, Continuation(0x0): 82
            ClientFrames.Build(0x80, euro.AsSpan(2, 1))); // FIN=1, Continuation(0x0): AC
        using var reader = new FrameReader(Limit);

        var events = FrameReads.ReadAll(reader, input);

        Assert.Equal("€", Encoding.UTF8.GetString(events.Single().Payload));
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF })]        // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]  // a UTF-16 surrogate
    [InlineData(new byte[] { 0xE2, 0x82 })]        // ends inside a code point
    [InlineData(new byte[] { 0xFF })]
    public void TryRead_InvalidUtf8Text_ClosesWith1007(byte[] text)
    {
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, text.AsSpan(0, 1)),  // FIN=0, Text(0x1)
            ClientFrames.Build(0x80, text.AsSpan(1)));    // FIN=1, Continuation(0x0)
        using var reader = new FrameReader(Limit);

        var ex = Assert.Throws<WebSocketProtocolException>(() => FrameReads.ReadAll(reader, input));

        Assert.Equal(WebSocketCloseCode.InvalidPayloadData, ex.CloseCode);
    }

    [Fact]
    public void TryRead_CloseWithCodeAndReason_ReportsCode()
    {
        byte[] body = [0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e']; // 1000, "bye"
        var frame = ClientFrames.Build(0x88, body); // FIN=1, Close(0x8), MASK=1, len=5
        using var reader = new FrameReader(Limit);

        var events = FrameReads.ReadAll(reader, frame);

        Assert.Equal((Opcode.Close, (ushort)1000), (events.Single().Opcode, reader.CloseCode));
    }

    [Fact]
    public void TryRead_EmptyClose_Reports1005()
    {
        var frame = ClientFrames.Build(0x88, []); // FIN=1, Close(0x8), MASK=1, len=0
        using var reader = new FrameReader(Limit);

        FrameReads.ReadAll(reader, frame);

        Assert.Equal(WebSocketCloseCode.NoStatusReceived, reader.CloseCode);
    }

    public static TheoryData<string, byte[], ushort> Violations => new()
    {
        { "unmasked", ClientFrames.Build(0x81, "a"u8, masked: false), 1002 },              // FIN=1, Text, MASK=0
        { "RSV1", ClientFrames.Build(0xC1, "a"u8), 1002 },                                 // FIN=1, RSV1=1, Text
        { "RSV2", ClientFrames.Build(0xA1, "a"u8), 1002 },                                 // FIN=1, RSV2=1, Text
        { "RSV3", ClientFrames.Build(0x91, "a"u8), 1002 },                                 // FIN=1, RSV3=1, Text
        { "opcode 0x3", ClientFrames.Build(0x83, "a"u8), 1002 },                           // reserved data opcode
        { "opcode 0xB", ClientFrames.Build(0x8B, "a"u8), 1002 },                           // reserved control opcode
        { "ping 126", ClientFrames.Build(0x89, new byte[126]), 1002 },                     // control frame > 125
        { "ping FIN=0", ClientFrames.Build(0x09, "a"u8), 1002 },                           // fragmented control frame
        { "lone continuation", ClientFrames.Build(0x80, "a"u8), 1002 },                    // Continuation without a start
        { "text in text", ClientFrames.Concat(ClientFrames.Build(0x01, "a"u8), ClientFrames.Build(0x81, "b"u8)), 1002 },
        // FIN=1, Binary(0x2), MASK=1, len=127 (64-bit), length 0x8000000000000001, masking key
        { "64-bit top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x37, 0xFA, 0x21, 0x3D], 1002 },
        { "close 1 byte", ClientFrames.Build(0x88, [0x03]), 1002 },
        { "close 999", ClientFrames.Build(0x88, [0x03, 0xE7]), 1002 },
        { "close 1004", ClientFrames.Build(0x88, [0x03, 0xEC]), 1002 },
        { "close 1005", ClientFrames.Build(0x88, [0x03, 0xED]), 1002 },
        { "close 1006", ClientFrames.Build(0x88, [0x03, 0xEE]), 1002 },
        { "close 1015", ClientFrames.Build(0x88, [0x03, 0xF7]), 1002 },
        { "close 2999", ClientFrames.Build(0x88, [0x0B, 0xB7]), 1002 },
        { "close 5000", ClientFrames.Build(0x88, [0x13, 0x88]), 1002 },
        { "close reason not UTF-8", ClientFrames.Build(0x88, [0x03, 0xE8, 0xFF]), 1007 },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void TryRead_Violation_ThrowsWithItsCloseCode(string name, byte[] input, ushort expected)
    {
        using var reader = new FrameReader(Limit);

        var ex = Assert.Throws<WebSocketProtocolException>(() => FrameReads.ReadAll(reader, input));

        Assert.True(expected == ex.CloseCode, name);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(4999)]
    public void TryRead_ValidCloseCode_IsAccepted(int code)
    {
        var frame = ClientFrames.Build(0x88, [(byte)(code >> 8), (byte)code]);
        using var reader = new FrameReader(Limit);

        FrameReads.ReadAll(reader, frame);

        Assert.Equal(code, reader.CloseCode);
    }

    [Fact]
    public void Masking_SplitAtEveryOffset_MatchesByteWise()
    {
        var data = Enumerable.Range(0, 301).Select(i => (byte)i).ToArray();
        uint key = BitConverter.ToUInt32(ClientFrames.DefaultMask);
        for (int split = 0; split <= data.Length; split += 13)
        {
            var copy = (byte[])data.Clone();
            int offset = Masking.Apply(copy.AsSpan(0, split), key, 0);
            Masking.Apply(copy.AsSpan(split), key, offset);
            Assert.Equal(data.Select((b, i) => (byte)(b ^ ClientFrames.DefaultMask[i % 4])), copy);
        }
    }
}
