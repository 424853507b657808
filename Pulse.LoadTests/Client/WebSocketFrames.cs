using System.Buffers.Binary;

namespace Pulse.LoadTests.Client;

/// <summary>
/// The client's half of RFC 6455 framing: it writes masked frames (§5.3: "a client MUST mask
/// all frames that it sends") and reads the server's unmasked ones. Only what a Phoenix client
/// needs: text, ping/pong and close; no fragmentation is sent, and received fragments are
/// treated as their own messages because Phoenix servers never fragment.
/// </summary>
internal static class WebSocketFrames
{
    public const byte OpcodeContinuation = 0x0;
    public const byte OpcodeText = 0x1;
    public const byte OpcodeClose = 0x8;
    public const byte OpcodePing = 0x9;
    public const byte OpcodePong = 0xA;

    /// <summary>Header (2) + extended 16-bit length (2) + masking key (4): enough for payloads under 64 KiB.</summary>
    public const int MaxClientHeaderLength = 8;

    /// <summary>Writes a FIN frame with <paramref name="opcode"/>, masked with a fresh key; returns its length.</summary>
    public static int WriteMasked(Span<byte> destination, byte opcode, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "client frames stay under 64 KiB");
        }

        destination[0] = (byte)(0x80 | opcode); // FIN=1, RSV=0, opcode
        int offset;
        if (payload.Length <= 125)
        {
            destination[1] = (byte)(0x80 | payload.Length); // MASK=1, 7-bit length
            offset = 2;
        }
        else
        {
            destination[1] = 0x80 | 126; // MASK=1, 16-bit length follows (§5.2)
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
            offset = 4;
        }

        // §5.3: the masking key must be unpredictable to defeat proxy cache poisoning, which
        // matters for browsers, not for a load tool on loopback; Random.Shared is enough here.
        Span<byte> key = destination.Slice(offset, 4);
        Random.Shared.NextBytes(key);
        offset += 4;
        for (int i = 0; i < payload.Length; i++)
        {
            destination[offset + i] = (byte)(payload[i] ^ key[i & 3]);
        }

        return offset + payload.Length;
    }

    /// <summary>
    /// Reads one server frame header. Returns false when <paramref name="buffer"/> does not yet
    /// hold the whole header; <paramref name="payloadLength"/> may still exceed what is buffered.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> buffer, out byte opcode, out int headerLength, out long payloadLength)
    {
        opcode = 0;
        headerLength = 0;
        payloadLength = 0;
        if (buffer.Length < 2)
        {
            return false;
        }

        opcode = (byte)(buffer[0] & 0x0F);
        bool masked = (buffer[1] & 0x80) != 0;
        int length7 = buffer[1] & 0x7F;
        int needed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (buffer.Length < needed)
        {
            return false;
        }

        payloadLength = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(buffer[2..]),
            _ => length7,
        };
        if (masked)
        {
            // §5.1: a server must not mask; treat it as the protocol error it is.
            throw new InvalidDataException("server sent a masked frame");
        }

        headerLength = needed;
        return true;
    }
}
