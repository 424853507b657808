using System.Buffers.Binary;

namespace Pulse.Phoenix;

/// <summary>
/// Frames a server text message once, header and payload in one array, to be shared by every
/// subscriber. Minimal on purpose: the WebSockets frame writer is the general one.
/// </summary>
/// <remarks>
/// RFC 6455 §5.2:
/// <code>
///  0                   1                   2                   3
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// </code>
/// A server never masks (§5.1), so MASK=0 and no masking key.
/// </remarks>
internal static class BroadcastFrame
{
    private const byte FinText = 0x80 | 0x1;            // FIN=1, RSV=0, opcode Text (0x1)
    private const int MaxSevenBitLength = 125;          // lengths 0..125 fit the 7-bit field
    private const byte SixteenBitMarker = 126;          // then a 16-bit big-endian length
    private const byte SixtyFourBitMarker = 127;        // then a 64-bit big-endian length

    public static int HeaderLength(int payloadLength) => payloadLength switch
    {
        <= MaxSevenBitLength => 2,
        <= ushort.MaxValue => 2 + 2,
        _ => 2 + 8,
    };

    /// <summary>Writes the header of an unmasked, final text frame; returns its length.</summary>
    public static int WriteTextHeader(Span<byte> destination, int payloadLength)
    {
        destination[0] = FinText;
        if (payloadLength <= MaxSevenBitLength)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }

        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = SixteenBitMarker;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }

        destination[1] = SixtyFourBitMarker;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>A complete text frame carrying <paramref name="payload"/>.</summary>
    public static byte[] CreateText(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength(payload.Length) + payload.Length];
        int header = WriteTextHeader(frame, payload.Length);
        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }
}
