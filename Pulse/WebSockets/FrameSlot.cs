using Pulse.Http;

namespace Pulse.WebSockets;

/// <summary>A complete server frame (header and payload), encoded once and written to many sockets.</summary>
internal sealed class SharedFrame(byte[] bytes)
{
    public byte[] Bytes { get; } = bytes;
}

/// <summary>Latest-only: a new frame replaces one not yet written (the replaced one is counted as skipped).</summary>
/// <remarks>
/// Thread safety: <see cref="Offer"/> may be called from any thread, concurrently with the socket's writer;
/// it never blocks and never waits for the socket, so one slow socket cannot delay a broadcast.
/// </remarks>
internal sealed class FrameSlot : Pulse.Broadcasting.IFrameSink
{
    private readonly WebSocketConnection _owner;

    // The newest frame not yet written, or null. Swapped with Interlocked by Offer and the writer.
    private SharedFrame? _pending;

    internal FrameSlot(WebSocketConnection owner) => _owner = owner;

    public void Offer(SharedFrame frame)
    {
        if (Interlocked.Exchange(ref _pending, frame) is not null)
        {
            Interlocked.Increment(ref PulseMetrics.FramesSkippedTotal);
        }

        _owner.ScheduleWrite();
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _pending, null);
        _owner.RemoveSlot(this);
    }

    internal bool HasPending => Volatile.Read(ref _pending) is not null;

    internal SharedFrame? Take() => Interlocked.Exchange(ref _pending, null);
}
