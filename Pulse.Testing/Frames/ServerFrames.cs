using System.Buffers.Binary;

namespace Pulse.Testing.Frames;

/// <summary>
/// Reads server frames (RFC 6455 §5.2). §5.1: "A server MUST NOT mask any frames that it sends to the
/// client"; a masked one is the protocol error it is, reported as <see cref="InvalidDataException"/>.
/// </summary>
internal static class ServerFrames
{
    /// <summary>
    /// Reads one frame header: <paramref name="b0"/> as on the wire (FIN|RSV|opcode). False when
    /// <paramref name="buffer"/> does not yet hold the whole header; the payload may not be buffered yet.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> buffer, out byte b0, out int headerLength, out long payloadLength)
    {
        b0 = 0;
        headerLength = 0;
        payloadLength = 0;
        if (buffer.Length < 2)
        {
            return false;
        }

        bool masked = (buffer[1] & 0x80) != 0;
        int length7 = buffer[1] & 0x7F;
        int needed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
        if (buffer.Length < needed)
        {
            return false;
        }

        if (masked)
        {
            throw new InvalidDataException("server sent a masked frame (RFC 6455 §5.1)");
        }

        b0 = buffer[0];
        payloadLength = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(buffer[2..]),
            _ => length7,
        };
        headerLength = needed;
        return true;
    }

    /// <summary>The payload of the one whole frame <paramref name="frame"/> holds (e.g. a pre-encoded broadcast).</summary>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> frame)
    {
        if (!TryReadHeader(frame, out _, out int header, out long length) || frame.Length != header + length)
        {
            throw new InvalidDataException($"not one whole server frame ({frame.Length} bytes)");
        }

        return frame[header..];
    }

    /// <summary>The status code of a Close payload (§5.5.1), or 0 when it has none.</summary>
    public static int CloseCode(ReadOnlySpan<byte> payload) => payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0;
}
