using System.Buffers;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// Hostile lengths (issue 10): the reader's buffer grows with the bytes received, never with the length a
/// header declares; the declared length is still checked against the limit before any payload arrives.
/// </summary>
[Trait("Category", "unit")] public sealed class FrameReaderBufferTests
{
    private const int Limit = 65_536;

    // ArrayPool's smallest bucket: a message of 1 to 16 bytes is held in 16.
    private const int SmallestRent = 16;

    [Fact]
    public void TryRead_65000DeclaredOneByteSent_HoldsOneSmallestBufferNotTheDeclaredLength()
    {
        byte[] input = [0x81, 0xFE, 0xFD, 0xE8, .. ClientFrames.DefaultMask, (byte)('[' ^ ClientFrames.DefaultMask[0])]; // FIN=1, Text(0x1), MASK=1, len=126 → 16-bit 65,000; mask; 1 byte
        using var reader = new FrameReader(Limit);
        var buffer = new ReadOnlySequence<byte>(input);

        Assert.False(reader.TryRead(ref buffer, out _));

        Assert.True(buffer.IsEmpty, "the header and the byte are consumed: the transport's pipe holds nothing");
        Assert.Equal(SmallestRent, reader.BufferCapacity);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4099)]
    public void TryRead_PayloadTricklingIn_BufferAtMostTwiceTheBytesReceived(int chunk)
    {
        var payload = Enumerable.Range(0, 65_000).Select(i => (byte)('a' + (i % 26))).ToArray();
        var frame = ClientFrames.Build(0x81, payload); // FIN=1, Text(0x1), MASK=1, 16-bit length 65,000
        using var reader = new FrameReader(Limit);
        const int header = 8; // 2 + 2 (16-bit length) + 4 (mask)
        var pending = new List<byte>();
        byte[]? delivered = null;

        for (int offset = 0; offset < frame.Length && delivered is null; offset += chunk)
        {
            pending.AddRange(frame.Skip(offset).Take(chunk));
            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            if (reader.TryRead(ref buffer, out _))
            {
                delivered = reader.Payload.ToArray();
            }
            else
            {
                long received = Math.Max(0, Math.Min(offset + chunk, frame.Length) - header);
                Assert.InRange(reader.BufferCapacity, 0, Math.Max(SmallestRent, 2 * received));
            }

            pending = [.. buffer.ToArray()];
        }

        Assert.Equal(payload, delivered);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void TryRead_FragmentedMessageTotalAroundTheLimit_WholeOr1009OnTheLastHeader(int overLimit, bool refused)
    {
        // Three fragments: 30,000 + 30,000 + the rest to Limit + overLimit. The refused case sends only the
        // last header: the sum is checked on it, before its payload is waited for.
        int last = Limit + overLimit - 60_000;
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, Letters(30_000)),  // FIN=0, Text(0x1)
            ClientFrames.Build(0x00, Letters(30_000)),  // FIN=0, Continuation(0x0)
            ClientFrames.Build(0x80, refused ? [] : Letters(last), declaredLength: last)); // FIN=1, Continuation(0x0)
        using var reader = new FrameReader(Limit);

        if (refused)
        {
            var ex = Assert.Throws<WebSocketProtocolException>(() => FrameReads.ReadAll(reader, input, chunk: 4099));
            Assert.Equal(WebSocketCloseCode.MessageTooBig, ex.CloseCode);
        }
        else
        {
            var events = FrameReads.ReadAll(reader, input, chunk: 4099);
            Assert.Equal((Opcode.Text, Limit + overLimit), (events.Single().Opcode, events.Single().Payload.Length));
            Assert.Equal([.. Letters(30_000), .. Letters(30_000), .. Letters(last)], events.Single().Payload);
        }
    }

    [Theory]
    [InlineData(0)]      // 7-bit length
    [InlineData(125)]    // largest 7-bit length
    [InlineData(126)]    // smallest 16-bit length
    [InlineData(65_535)] // largest 16-bit length
    [InlineData(65_536)] // smallest 64-bit length
    public void TryRead_EveryLengthEncodingAsTheLastFragment_WholeMessage(int length)
    {
        // A first fragment of 1 byte makes the buffer grow from 16 bytes while the second arrives.
        int limit = length + 1;
        var input = ClientFrames.Concat(
            ClientFrames.Build(0x01, "x"u8),            // FIN=0, Text(0x1), 1 byte
            ClientFrames.Build(0x80, Letters(length))); // FIN=1, Continuation(0x0), length by encoding
        using var reader = new FrameReader(limit);

        var events = FrameReads.ReadAll(reader, input, chunk: length > 1000 ? 1021 : 3);

        Assert.Equal([(byte)'x', .. Letters(length)], events.Single().Payload);
    }

    [Fact]
    public void TryRead_MessageDelivered_BufferReturned()
    {
        using var reader = new FrameReader(Limit);
        var buffer = new ReadOnlySequence<byte>(ClientFrames.Concat(ClientFrames.Build(0x81, Letters(1000)), ClientFrames.Build(0x81, "y"u8)));

        Assert.True(reader.TryRead(ref buffer, out _));
        Assert.True(reader.TryRead(ref buffer, out _));
        var empty = ReadOnlySequence<byte>.Empty;
        Assert.False(reader.TryRead(ref empty, out _));

        Assert.Equal(0, reader.BufferCapacity);
    }

    private static byte[] Letters(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26)))];
}
