using System.Buffers;

namespace Pulse.Tests.Infrastructure;

/// <summary>Multi-segment <see cref="ReadOnlySequence{T}"/>s, so that parsers' slow paths (a value across segments) are tested.</summary>
internal static class Sequences
{
    /// <summary><paramref name="bytes"/> cut into segments of <paramref name="segmentBytes"/> (the last one may be shorter).</summary>
    public static ReadOnlySequence<byte> Segmented(ReadOnlyMemory<byte> bytes, int segmentBytes)
    {
        if (bytes.Length <= segmentBytes)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes[..segmentBytes], 0);
        var last = first;
        for (int at = segmentBytes; at < bytes.Length; at += segmentBytes)
        {
            last = last.Append(bytes[at..Math.Min(at + segmentBytes, bytes.Length)]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
