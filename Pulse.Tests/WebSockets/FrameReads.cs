using System.Buffers;

namespace Pulse.Tests.WebSockets;

/// <summary>Drives a <see cref="FrameReader"/> over given bytes, as the read loop would.</summary>
internal static class FrameReads
{
    /// <summary>Reads everything <paramref name="input"/> yields, <paramref name="chunk"/> bytes at a time; returns (opcode, payload) pairs.</summary>
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
