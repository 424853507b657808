using System.Buffers.Binary;

namespace Pulse.Testing.Frames;

/// <summary>
/// Client frames as a peer puts them on the wire (RFC 6455 §5.2): FIN/RSV/opcode, MASK and the 7-bit,
/// 16-bit or 64-bit length, the masking key, the masked payload. §5.3: "a client MUST mask all frames
/// that it sends"; a hostile peer may not, or may declare a length it never sends.
/// </summary>
internal static class ClientFrames
{
    /// <summary>Header (2) + 64-bit extended length (8) + masking key (4).</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>The key of <see cref="Build"/>: fixed, so test bytes are the same every run.</summary>
    public static ReadOnlySpan<byte> DefaultMask => [0x37, 0xFA, 0x21, 0x3D];

    /// <summary>The whole frame's length for a masked payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int GetLength(int payloadLength) => HeaderLength(payloadLength, masked: true) + payloadLength;

    /// <summary>
    /// A frame; <paramref name="b0"/> is FIN|RSV|opcode as on the wire. <paramref name="declaredLength"/>
    /// puts another length in the header than the payload's (a peer that announces and stalls);
    /// <paramref name="mask"/> (4 bytes) replaces <see cref="DefaultMask"/>.
    /// </summary>
    public static byte[] Build(byte b0, ReadOnlySpan<byte> payload, bool masked = true, long? declaredLength = null, ReadOnlySpan<byte> mask = default)
    {
        long length = declaredLength ?? payload.Length;
        int header = HeaderLength(length, masked);
        var frame = new byte[header + payload.Length];
        WriteHeader(frame, b0, length, masked, mask.IsEmpty ? DefaultMask : mask);
        payload.CopyTo(frame.AsSpan(header));
        if (masked)
        {
            Mask(frame.AsSpan(header), frame.AsSpan(header - 4, 4));
        }

        return frame;
    }

    /// <summary>A masked FIN text frame.</summary>
    public static byte[] Text(string text) => Build(FrameOpcode.Fin | FrameOpcode.Text, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Writes a masked FIN frame into <paramref name="destination"/> without allocating (the load tool's
    /// send path); returns its length. <paramref name="destination"/> holds at least
    /// <see cref="GetLength"/> bytes.
    /// </summary>
    public static int Write(Span<byte> destination, byte opcode, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> mask)
    {
        int header = HeaderLength(payload.Length, masked: true);
        WriteHeader(destination, (byte)(FrameOpcode.Fin | opcode), payload.Length, masked: true, mask);
        payload.CopyTo(destination[header..]);
        Mask(destination.Slice(header, payload.Length), destination.Slice(header - 4, 4));
        return header + payload.Length;
    }

    /// <summary>All given frames, back to back (a pipelining peer).</summary>
    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static int HeaderLength(long length, bool masked) =>
        (length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    private static void WriteHeader(Span<byte> frame, byte b0, long length, bool masked, ReadOnlySpan<byte> mask)
    {
        frame[0] = b0;
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        int offset;
        if (length < 126)
        {
            frame[1] = (byte)(maskBit | length); // 7-bit length
            offset = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            frame[1] = (byte)(maskBit | 126); // 16-bit length follows
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)length);
            offset = 4;
        }
        else
        {
            frame[1] = (byte)(maskBit | 127); // 64-bit length follows
            BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)length);
            offset = 10;
        }

        if (masked)
        {
            mask[..4].CopyTo(frame[offset..]);
        }
    }

    // §5.3: octet i of the payload is XORed with octet i MOD 4 of the key.
    private static void Mask(Span<byte> payload, ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i & 3];
        }
    }
}
