using System.Buffers;
using System.IO.Pipelines;

namespace Pulse.WebSockets;

/// <summary>
/// One socket's queued replies, in order, as bytes in pooled segments: what the server holds for a peer
/// is its reply bytes plus at most one segment, whatever the sizes of the frames (a rented array per
/// 64-byte heartbeat reply costs 1.6 times its bytes in array headers and queue entries).
/// </summary>
/// <remarks>
/// Not thread-safe: the connection uses it under its lock. Empty, it holds no segment, so an idle socket
/// pays for the object only. Frames are appended whole, so the bytes are a sequence of complete frames
/// and the writer may copy any prefix of them into the pipe.
/// </remarks>
internal sealed class ReplyBuffer
{
    /// <summary>A page: the ArrayPool bucket a segment comes from, and the most one buffer wastes.</summary>
    public const int SegmentBytes = 4096;

    // Segments in order; bytes [_head, SegmentBytes) of the first and [0, _tail) of the last are queued
    // (the same segment when there is one).
    private readonly List<byte[]> _segments = [];
    private int _head;
    private int _tail;

    /// <summary>Bytes queued.</summary>
    public int Length { get; private set; }

    /// <summary>Appends one frame, header and payload.</summary>
    public void AppendFrame(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[FrameWriter.MaxHeaderLength];
        Append(header[..FrameWriter.WriteHeader(header, opcode, payload.Length)]);
        Append(payload);
    }

    /// <summary>Copies up to <paramref name="max"/> bytes into <paramref name="output"/> and drops them; returns how many.</summary>
    public int WriteTo(PipeWriter output, int max)
    {
        int written = 0;
        while (written < max && Length > 0)
        {
            var first = _segments[0];
            int end = _segments.Count == 1 ? _tail : SegmentBytes;
            int take = Math.Min(end - _head, max - written);
            output.Write(first.AsSpan(_head, take));
            _head += take;
            written += take;
            Length -= take;
            if (_head == end)
            {
                // The first segment is drained: give it back (the last one too, once nothing is left).
                _segments.RemoveAt(0);
                ArrayPool<byte>.Shared.Return(first);
                _head = 0;
                if (_segments.Count == 0)
                {
                    _tail = 0;
                }
            }
        }

        return written;
    }

    /// <summary>Drops everything and returns the segments.</summary>
    public void Clear()
    {
        foreach (var segment in _segments)
        {
            ArrayPool<byte>.Shared.Return(segment);
        }

        _segments.Clear();
        _head = 0;
        _tail = 0;
        Length = 0;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_segments.Count == 0 || _tail == SegmentBytes)
            {
                _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentBytes));
                _tail = 0;
            }

            int take = Math.Min(bytes.Length, SegmentBytes - _tail);
            bytes[..take].CopyTo(_segments[^1].AsSpan(_tail));
            _tail += take;
            Length += take;
            bytes = bytes[take..];
        }
    }
}
