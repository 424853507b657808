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
/// Readiness: the connection keeps no list of its slots. An open slot with a pending frame sits once in
/// its connection's ready queue (FIFO, so the socket's topics take turns); <see cref="_queued"/> says it is
/// there, so a burst of offers costs one enqueue, and a slot that has nothing pending costs the writer nothing.
/// Thread safety: <see cref="Offer"/> may be called from any thread, concurrently with the socket's writer;
/// it never waits for the socket, so one slow socket cannot delay a broadcast. Only the offer that makes
/// the slot ready takes the connection's lock, which no one holds across a flush.
/// </remarks>
internal sealed class FrameSlot : IFrameSink
{
    // _openedAfter before the join reply is queued, and after Dispose (a late offer must write nothing).
    private const long Closed = -1;
    private const long Disposed = -2;

    private readonly WebSocketConnection _owner;
    private readonly PulseMetrics _metrics;

    // The newest frame not yet written, or null. Swapped with Interlocked by Offer and the writer.
    private SharedFrame? _pending;

    // Closed until the join reply is queued; then the version of the reply's snapshot: only newer frames go out.
    private long _openedAfter = Closed;

    // 1 from the offer (or Open) that puts the slot in its connection's ready queue until the writer has
    // dequeued it and is about to take its frame; changed only with Interlocked.
    private int _queued;

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

        // The frame is stored before the flag is tested (both interlocked, so in this order for the writer
        // too): either the writer has not yet cleared the flag, and the take after its clear sees this frame,
        // or it has, and this offer queues the slot again. A closed slot waits for Open, which looks again.
        if (IsOpen && Interlocked.CompareExchange(ref _queued, 1, 0) == 0)
        {
            _owner.EnqueueReady(this);
        }
    }

    /// <summary>Drops the pending frame; the slot may still sit in the ready queue, where it now yields nothing.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _openedAfter, Disposed);
        Interlocked.Exchange(ref _pending, null);
    }

    private bool IsOpen => Volatile.Read(ref _openedAfter) >= 0;

    /// <summary>
    /// Opens the slot after the join reply of <paramref name="replyVersion"/>. Called under the connection's
    /// lock, right after the reply was queued. True when a frame offered while closed is pending and the
    /// slot is now to be queued as ready, behind the reply.
    /// </summary>
    internal bool Open(long replyVersion)
    {
        // Interlocked: a full fence between opening and reading _pending. An offer that stored its frame
        // before the open, and so saw the slot closed, is seen here; one after it sees the slot open.
        // From Closed only: a disposed slot stays shut.
        if (Interlocked.CompareExchange(ref _openedAfter, Math.Max(replyVersion, 0), Closed) != Closed)
        {
            return false;
        }

        return Volatile.Read(ref _pending) is not null && Interlocked.CompareExchange(ref _queued, 1, 0) == 0;
    }

    /// <summary>
    /// The frame to write now, or null: disposed, taken already, or not newer than the join reply. Called
    /// by the writer under the connection's lock, right after it dequeued the slot.
    /// </summary>
    internal SharedFrame? Take()
    {
        // Cleared before the frame is taken: an offer that comes after this take queues the slot again.
        Interlocked.Exchange(ref _queued, 0);
        long openedAfter = Volatile.Read(ref _openedAfter);
        if (openedAfter < 0)
        {
            return null;
        }

        var frame = Interlocked.Exchange(ref _pending, null);
        if (frame is not null && frame.Version != 0 && frame.Version <= openedAfter)
        {
            // Published while the join read its snapshot, and the reply already carries these numbers or newer.
            _metrics.FrameSkipped();
            return null;
        }

        return frame;
    }
}
