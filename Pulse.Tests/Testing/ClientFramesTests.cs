using System.Buffers.Binary;

namespace Pulse.Tests.Testing;

/// <summary>The shared frame builder and server-frame reader (Pulse.Testing), byte by byte against RFC 6455 §5.2.</summary>
[Trait("Category", "unit")] public sealed class ClientFramesTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)] // the largest 7-bit length
    [InlineData(126, 4)] // the smallest 16-bit length
    [InlineData(65535, 4)]
    [InlineData(65536, 10)] // the smallest 64-bit length
    public void Build_EveryLengthEncoding_HeaderLengthKeyAndMaskedPayload(int length, int headerWithoutKey)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        var frame = ClientFrames.Build(0x81, payload);

        Assert.Equal(0x81, frame[0]); // FIN=1, Text(0x1)
        Assert.Equal(0x80, frame[1] & 0x80); // MASK=1
        long declared = (frame[1] & 0x7F) switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(2)),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(frame.AsSpan(2)),
            var l => l,
        };
        Assert.Equal(length, declared);
        Assert.Equal(ClientFrames.DefaultMask.ToArray(), frame.AsSpan(headerWithoutKey, 4).ToArray());
        Assert.Equal(ClientFrames.GetLength(length), frame.Length);
        var key = frame.AsSpan(headerWithoutKey, 4).ToArray();
        Assert.Equal(payload, frame.Skip(headerWithoutKey + 4).Select((b, i) => (byte)(b ^ key[i % 4])).ToArray());
    }

    [Fact]
    public void Build_UnmaskedWithDeclaredLength_HeaderAnnouncesMoreThanItCarries()
    {
        var frame = ClientFrames.Build(0x81, "ab"u8, masked: false, declaredLength: 70_000);

        // FIN=1, Text(0x1), MASK=0, 127: 64-bit length 70,000, then only "ab".
        Assert.Equal([0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, (byte)'a', (byte)'b'], frame);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65536)]
    public void Write_SameBytesAsBuild_WithTheGivenKey(int length)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        byte[] key = [1, 2, 3, 4];
        var destination = new byte[ClientFrames.GetLength(length)];

        int written = ClientFrames.Write(destination, FrameOpcode.Text, payload, key);

        Assert.Equal(ClientFrames.Build(0x81, payload, mask: key), destination[..written]);
    }

    [Theory]
    [InlineData(new byte[] { 0x81, 0x02, (byte)'h', (byte)'i' }, 2, 2)] // FIN=1, Text, MASK=0, length 2
    [InlineData(new byte[] { 0x88, 126, 0x00, 0x02, 0x03, 0xE8 }, 4, 2)] // FIN=1, Close, 16-bit length 2, code 1000
    public void TryReadHeader_ServerFrame_HeaderAndPayloadLength(byte[] frame, int header, long length)
    {
        Assert.True(ServerFrames.TryReadHeader(frame, out byte b0, out int headerLength, out long payloadLength));
        Assert.Equal((frame[0], header, length), (b0, headerLength, payloadLength));
    }

    [Fact]
    public void TryReadHeader_PartialExtendedLength_NeedsMoreBytes() =>
        Assert.False(ServerFrames.TryReadHeader([0x81, 126, 0x01], out _, out _, out _)); // 16-bit length, one of its two bytes

    [Fact]
    public void TryReadHeader_MaskedServerFrame_ProtocolError() =>
        Assert.Throws<InvalidDataException>(() => ServerFrames.TryReadHeader([0x81, 0x82, 1, 2, 3, 4], out _, out _, out _)); // MASK=1 (§5.1)
}
