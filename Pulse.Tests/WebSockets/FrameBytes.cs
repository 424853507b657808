using System.Buffers;
using System.Buffers.Binary;
using Pulse.WebSockets;

namespace Pulse.Tests.WebSockets;

/// <summary>Builds client frames byte by byte, as a peer would put them on the wire.</summary>
internal static class FrameBytes
{
    public static readonly byte[] Mask = [0x37, 0xFA, 0x21, 0x3D];

    /// <summary>A masked client frame; <paramref name="b0"/> is FIN|RSV|opcode as on the wire.</summary>
    public static byte[] Client(byte b0, ReadOnlySpan<byte> payload, bool masked = true, long? declaredLength = null)
    {
        long length = declaredLength ?? payload.Length;
        var frame = new List<byte> { b0 };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            var ext = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(ext, (ushort)length);
            frame.AddRange(ext);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            var ext = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(ext, (ulong)length);
            frame.AddRange(ext);
        }

        if (masked)
        {
            frame.AddRange(Mask);
        }

        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ Mask[i % 4]) : payload[i]);
        }

        return [.. frame];
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>Reads everything <paramref name="input"/> yields, as the read loop would; returns (opcode, payload) pairs.</summary>
    public static List<(Opcode Opcode, byte[] Payload)> ReadAll(FrameReader reader, byte[] input, int chunk = int.MaxValue)
    {
        var events = new List<(Opcode, byte[])>();
        var pending = new List<byte>();
        for (int offset = 0; offset < input.Length; offset += chunk)
        {
            pending.AddRange(input.Skip(offset).Take(chunk));
            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            while (reader.TryRead(ref buffer, out var opcode))
            {
                events.Add((opcode, reader.Payload.ToArray()));
            }

            pending = [.. buffer.ToArray()];
        }

        return events;
    }
}
