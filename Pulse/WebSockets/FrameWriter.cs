using System.Buffers.Binary;
using System.Text;

namespace Pulse.WebSockets;

/// <summary>
/// Encodes server frames: always FIN, never masked ("A server MUST NOT mask any frames that it sends to
/// the client", RFC 6455 §5.1), so a frame's bytes do not depend on the socket and one encoding can be
/// written to every subscriber.
/// </summary>
internal static class FrameWriter
{
    /// <summary>Header length of an unmasked frame: 2 bytes, plus 2 for lengths 126–65535, plus 8 beyond.</summary>
    public static int GetHeaderLength(int payloadLength) => payloadLength switch
    {
        < 126 => 2,
        <= ushort.MaxValue => 4,
        _ => 10,
    };

    public static int GetFrameLength(int payloadLength) => GetHeaderLength(payloadLength) + payloadLength;

    /// <summary>Encodes a whole frame (header and payload) into a new array, for <see cref="SharedFrame"/>.</summary>
    public static byte[] Encode(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[GetFrameLength(payload.Length)];
        Write(frame, opcode, payload);
        return frame;
    }

    /// <summary>Encodes a text frame shared between sockets; <paramref name="version"/>: the view model's it carries.</summary>
    public static SharedFrame EncodeShared(ReadOnlySpan<byte> utf8Payload, long version = 0) => new(Encode(Opcode.Text, utf8Payload), version);

    /// <summary>Writes a whole frame at the start of <paramref name="destination"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, Opcode opcode, ReadOnlySpan<byte> payload)
    {
        int header = WriteHeader(destination, opcode, payload.Length);
        payload.CopyTo(destination[header..]);
        return header + payload.Length;
    }

    /// <summary>The longest server header: 2 bytes and a 64-bit length (no masking key, §5.1).</summary>
    public const int MaxHeaderLength = 10;

    /// <summary>Writes the header of a frame of <paramref name="payloadLength"/> bytes; returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, Opcode opcode, int payloadLength)
    {
        destination[0] = (byte)(0x80 | (byte)opcode); // FIN=1, RSV=0
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }

        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>
    /// A Close frame body (§5.5.1): the code, then the reason when its UTF-8 fits the 125-byte control
    /// limit with the code (123 bytes); a longer reason is left out whole, not truncated. 1005 means
    /// "no code" and is sent as an empty body, as §7.4.1 forbids it on the wire.
    /// </summary>
    public static byte[] EncodeClose(ushort code, string reason)
    {
        if (code == WebSocketCloseCode.NoStatusReceived)
        {
            return Encode(Opcode.Close, []);
        }

        Span<byte> body = stackalloc byte[FrameReader.MaxControlPayloadLength];
        BinaryPrimitives.WriteUInt16BigEndian(body, code);
        int reasonLength = Encoding.UTF8.GetByteCount(reason) <= body.Length - 2
            ? Encoding.UTF8.GetBytes(reason, body[2..])
            : 0; // a reason too long is left out rather than cut inside a code point
        return Encode(Opcode.Close, body[..(2 + reasonLength)]);
    }
}
