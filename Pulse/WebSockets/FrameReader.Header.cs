using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Pulse.WebSockets;

internal sealed partial class FrameReader
{
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-------+-+-------------+-------------------------------+
    // |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
    // |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
    // |N|V|V|V|       |S|             |   (if payload len==126/127)   |
    // | |1|2|3|       |K|             |                               |
    // +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
    // |     Extended payload length continued, if payload len == 127  |
    // + - - - - - - - - - - - - - - - +-------------------------------+
    // |                               |Masking-key, if MASK set to 1  |
    // +-------------------------------+-------------------------------+
    // | Masking-key (continued)       |          Payload Data         |
    // +-------------------------------- - - - - - - - - - - - - - - - +   (RFC 6455 §5.2)

    /// <summary>"All control frames MUST have a payload length of 125 bytes or less" (§5.5).</summary>
    public const int MaxControlPayloadLength = 125;

    /// <summary>2 base bytes + 8 bytes of 64-bit length + 4 bytes of masking key.</summary>
    public const int MaxHeaderLength = 14;

    private const byte FinBit = 0x80;
    private const byte ReservedBits = 0x70; // RSV1, RSV2, RSV3
    private const byte OpcodeBits = 0x0F;
    private const byte MaskBit = 0x80;
    private const byte LengthBits = 0x7F;
    private const byte Length16 = 126;
    private const byte Length64 = 127;

    /// <summary>
    /// Parses a client frame header from the start of <paramref name="buffer"/>; <c>false</c> = need more bytes.
    /// Throws <see cref="WebSocketProtocolException"/> (1002) for anything a header alone shows to be wrong.
    /// </summary>
    public static bool TryReadFrameHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header)
    {
        header = default;
        if (buffer.Length < 2)
        {
            return false;
        }

        // Fast path on the first segment; a header split across segments is copied (at most 14 bytes).
        ReadOnlySpan<byte> span = buffer.FirstSpan;
        if (span.Length < MaxHeaderLength && buffer.Length > span.Length)
        {
            Span<byte> copy = stackalloc byte[MaxHeaderLength];
            int length = (int)Math.Min(buffer.Length, MaxHeaderLength);
            buffer.Slice(0, length).CopyTo(copy);
            return TryParse(copy[..length], out header);
        }

        return TryParse(span, out header);
    }

    private static bool TryParse(ReadOnlySpan<byte> span, out FrameHeader header)
    {
        header = default;
        byte b0 = span[0];
        byte b1 = span[1];

        // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values" (§5.2);
        // Pulse negotiates no extension.
        if ((b0 & ReservedBits) != 0)
        {
            throw new WebSocketProtocolException("reserved bits set");
        }

        var opcode = (Opcode)(b0 & OpcodeBits);
        if (opcode is not (Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong))
        {
            throw new WebSocketProtocolException("reserved opcode");
        }

        // "The server MUST close the connection upon receiving a frame that is not masked" (§5.1).
        bool masked = (b1 & MaskBit) != 0;
        if (!masked)
        {
            throw new WebSocketProtocolException("unmasked client frame");
        }

        bool fin = (b0 & FinBit) != 0;
        int lengthField = b1 & LengthBits;
        bool control = ((byte)opcode & 0x8) != 0;
        if (control && (lengthField > MaxControlPayloadLength || !fin))
        {
            // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented" (§5.5).
            throw new WebSocketProtocolException(fin ? "control frame too long" : "fragmented control frame");
        }

        int extended = lengthField switch { Length16 => 2, Length64 => 8, _ => 0 };
        int headerLength = 2 + extended + 4;
        if (span.Length < headerLength)
        {
            return false;
        }

        long payloadLength = lengthField;
        if (lengthField == Length16)
        {
            payloadLength = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        }
        else if (lengthField == Length64)
        {
            ulong length64 = BinaryPrimitives.ReadUInt64BigEndian(span[2..]);

            // "the most significant bit MUST be 0" (§5.2).
            if ((length64 & (1UL << 63)) != 0)
            {
                throw new WebSocketProtocolException("64-bit length with its top bit set");
            }

            payloadLength = (long)length64;
        }

        uint maskKey = MemoryMarshal.Read<uint>(span.Slice(2 + extended, 4));
        header = new FrameHeader(fin, opcode, payloadLength, maskKey, headerLength);
        return true;
    }
}
