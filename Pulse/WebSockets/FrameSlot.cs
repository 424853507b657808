using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>A complete server frame (header and payload), encoded once and written to many sockets.</summary>
/// <param name="bytes">The whole frame.</param>
/// <param name="version">The view model's version it carries (docs/design.md §5); 0 for a frame without one.</param>
internal sealed class SharedFrame(byte[] bytes, long version = 0)
{
    public byte[] Bytes { get; } = bytes;

    public long Version { get; } = version;
}

/// <summary>
/// One joined topic's broadcasts on one socket. Latest-only: a new frame replaces one not yet written
/// (the replaced one is counted as skipped).
/// </summary>
/// <remarks>
/// Ordering with the join reply (issue 10): the slot is created closed, before the join reads its
/// snapshot, so a broadcast published meanwhile is kept, not lost; but nothing leaves a closed slot.
/// <see cref="WebSocketConnection.SendJoinReply"/> queues the reply and opens the slot in one step
/// under the connection's lock, and the writer takes slot frames only once every reply queued before is
/// in the pipe: so no broadcast of the topic reaches the client before its join reply, and one whose
/// version is not newer than the reply's snapshot is dropped (the client already has those numbers).
/// Thread safety: <see cref="Offer"/> may be called from any thread, concurrently with the socket's writer;
/// it never blocks and never waits for the socket, so one slow socket cannot delay a broadcast.
/// </remarks>
internal sealed class FrameSlot : IFrameSink
{
    private const long Closed = -1;

    private readonly WebSocketConnection _owner;
    private readonly PulseMetrics _metrics;

    // The newest frame not yet written, or null. Swapped with Interlocked by Offer and the writer.
    private SharedFrame? _pending;

    // Closed until the join reply is queued; then the version of the reply's snapshot: only newer frames go out.
    private long _openedAfter = Closed;

    internal FrameSlot(WebSocketConnection owner, PulseMetrics metrics)
    {
        _owner = owner;
        _metrics = metrics;
    }

    public void Offer(SharedFrame frame)
    {
        if (Interlocked.Exchange(ref _pending, frame) is not null)
        {
            _metrics.FrameSkipped();
        }

        if (IsOpen)
        {
            _owner.ScheduleWrite();
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _pending, null);
        _owner.RemoveSlot(this);
    }

    private bool IsOpen => Volatile.Read(ref _openedAfter) != Closed;

    internal bool HasPending => IsOpen && Volatile.Read(ref _pending) is not null;

    /// <summary>Called under the connection's lock, right after the join reply was queued.</summary>
    internal void Open(long replyVersion) => Volatile.Write(ref _openedAfter, Math.Max(replyVersion, 0));

    /// <summary>The frame to write now, or null: closed, nothing pending, or not newer than the join reply.</summary>
    internal SharedFrame? Take()
    {
        long openedAfter = Volatile.Read(ref _openedAfter);
        if (openedAfter == Closed)
        {
            return null;
        }

        // The writer asks every slot of its socket each pass: a plain read first spares the interlocked
        // write on the slots that have nothing.
        var frame = Volatile.Read(ref _pending) is null ? null : Interlocked.Exchange(ref _pending, null);
        if (frame is not null && frame.Version != 0 && frame.Version <= openedAfter)
        {
            // Published while the join read its snapshot, and the reply already carries these numbers or newer.
            _metrics.FrameSkipped();
            return null;
        }

        return frame;
    }
}
