using System.Buffers;
using System.IO.Pipelines;
using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>The writer: copies what is queued into the transport's pipe, a bounded chunk per flush.</summary>
internal sealed partial class WebSocketConnection
{
    /// <summary>
    /// Bytes copied into the pipe between two flushes. A flush that leaves the pipe at or above the
    /// transport's pause threshold stays pending and nothing more is copied until the peer has read, so a
    /// peer that does not read makes the pipe hold less than that threshold plus this: 64 + 32 KiB on
    /// Kestrel. Large frames (a one-day join reply is ~120 KB) go in slices of this size.
    /// </summary>
    internal const int WriteChunkBytes = 32 * 1024;

    // 1 while a writer is scheduled or running: at most one writer per socket, none while idle.
    private int _writeScheduled;

    // Set by the read loop while it parses a batch: writes wait for the batch end, then go out together.
    private volatile bool _inReadBatch;

    // Timestamp at which a flush went asynchronous (the peer is not reading), or 0; read by the heartbeat.
    private long _flushStartedAt;

    // The slot or Close frame being copied into the pipe, possibly in several slices; under _sync.
    private OutgoingFrame _current;

    // The writer is gone for good (Close frame written, transport closed, or failed): nothing more is queued.
    private bool _outputDone;

    // The read loop waiting for the replies to drain (backpressure); completed by the writer, under _sync.
    private TaskCompletionSource? _drained;

    // The read loop's pause threshold: ReplyPauseBytes, or half the limit when the limit is lower, so that
    // the message that reaches it still finds room under the limit.
    private readonly int _pauseBytes;

    /// <summary>True while a flush waits for the peer to read (the output does not drain).</summary>
    internal bool OutputBlocked => Volatile.Read(ref _flushStartedAt) != 0;

    /// <summary>Starts the writer on the thread pool unless one is already scheduled or running.</summary>
    internal void ScheduleWrite()
    {
        if (Interlocked.CompareExchange(ref _writeScheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = WriteLoopAsync();

    /// <summary>
    /// Backpressure for the read loop: completes at once while fewer than the pause threshold of replies
    /// wait; otherwise starts the writer and completes once they are below it again (or the output is over).
    /// </summary>
    private Task WaitForRepliesDrainedAsync()
    {
        Task drained;
        lock (_sync)
        {
            if (_queuedBytes < _pauseBytes || _closeQueued || _stopped || _outputDone)
            {
                return Task.CompletedTask;
            }

            drained = (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        ScheduleWrite();
        return drained;
    }

    private async Task WriteLoopAsync()
    {
        var output = _context.Transport.Output;
        try
        {
            while (true)
            {
                bool closeWritten;
                int written;
                lock (_sync)
                {
                    written = WritePending(output, out closeWritten);
                }

                if (written == 0)
                {
                    // Going idle: release the flag, then look again so that work queued in between is not missed.
                    SignalIfDrained();
                    Volatile.Write(ref _writeScheduled, 0);
                    if (!HasWork() || Interlocked.CompareExchange(ref _writeScheduled, 1, 0) != 0)
                    {
                        return;
                    }

                    continue;
                }

                var flush = output.FlushAsync();
                FlushResult result;
                if (flush.IsCompleted)
                {
                    result = flush.Result;
                }
                else
                {
                    Volatile.Write(ref _flushStartedAt, _time.GetTimestamp());
                    result = await flush;
                    Volatile.Write(ref _flushStartedAt, 0);
                }

                if (closeWritten || result.IsCompleted || result.IsCanceled)
                {
                    // The writer stays "scheduled" for good: nothing may follow the Close frame.
                    FinishOutput();
                    return;
                }

                SignalIfDrained();
            }
        }
        catch (Exception ex)
        {
            WebSocketsLog.TransportError(_logger, ConnectionId, ex);
            FinishOutput();
        }
    }

    /// <summary>
    /// Copies up to <see cref="WriteChunkBytes"/> into the pipe: the frame in progress, then replies, then
    /// the newest frame of each ready slot (only with no reply left), then the Close frame. Under <c>_sync</c>.
    /// </summary>
    private int WritePending(PipeWriter output, out bool closeWritten)
    {
        closeWritten = false;
        int written = 0;
        while (!_stopped && written < WriteChunkBytes)
        {
            if (_current.Frame is not null)
            {
                int slice = Math.Min(_current.Remaining, WriteChunkBytes - written);
                output.Write(_current.Frame.AsSpan(_current.Offset, slice));
                _current.Offset += slice;
                written += slice;
                if (_current.Remaining == 0)
                {
                    closeWritten = _current.IsClose;
                    _current = default;
                    if (closeWritten)
                    {
                        break;
                    }
                }
            }
            else if (_queuedBytes > 0)
            {
                // Whole frames were appended, and slot frames wait for an empty queue: a prefix is safe.
                int copied = _replies!.WriteTo(output, WriteChunkBytes - written);
                _queuedBytes -= copied;
                written += copied;
            }
            else if (!TakeNext())
            {
                break;
            }
        }

        return written;
    }

    /// <summary>Makes the next slot frame, or the Close frame, current; false when there is none. Under <c>_sync</c>.</summary>
    private bool TakeNext()
    {
        // A slot frame only once no reply waits (WritePending asks only then): a join reply queued before
        // its slot opened goes first. A dequeued slot may yield nothing: disposed, its frame taken by an
        // earlier pass, or not newer than its join reply.
        if (_ready is { } ready && !_closeQueued)
        {
            while (ready.TryDequeue(out var slot))
            {
                if (slot.Take() is { } shared)
                {
                    _current = new OutgoingFrame(shared.Bytes, isClose: false);
                    return true;
                }
            }
        }

        if (_closeFrame is not null)
        {
            _current = new OutgoingFrame(_closeFrame, isClose: true);
            _closeFrame = null;
            return true;
        }

        return false;
    }

    private bool HasWork()
    {
        lock (_sync)
        {
            return !_stopped && !_outputDone
                && (_current.Frame is not null || _queuedBytes > 0 || _closeFrame is not null || (!_closeQueued && _ready is { Count: > 0 }));
        }
    }

    /// <summary>Wakes a read loop paused for the replies once they are below its threshold.</summary>
    private void SignalIfDrained()
    {
        // Nobody waits, the usual case. A read loop that registers after this read has found the queue at
        // its threshold, so there are bytes to write, and the writer comes back here after their flush.
        if (Volatile.Read(ref _drained) is null)
        {
            return;
        }

        TaskCompletionSource? drained = null;
        lock (_sync)
        {
            if (_drained is not null && _queuedBytes < _pauseBytes)
            {
                (drained, _drained) = (_drained, null);
            }
        }

        drained?.TrySetResult();
    }

    private void FinishOutput()
    {
        TaskCompletionSource? drained;
        lock (_sync)
        {
            _outputDone = true;
            (drained, _drained) = (_drained, null);
        }

        _closeWritten?.TrySetResult();
        drained?.TrySetResult();
    }

    /// <summary>A shared broadcast or the Close frame on its way into the pipe, possibly in several slices.</summary>
    private struct OutgoingFrame(byte[] frame, bool isClose)
    {
        public readonly byte[]? Frame = frame;
        public readonly bool IsClose = isClose;

        // Bytes already copied into the pipe.
        public int Offset;

        public readonly int Remaining => Frame!.Length - Offset;
    }
}
