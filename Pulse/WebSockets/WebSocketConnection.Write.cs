using System.Buffers;
using System.IO.Pipelines;

namespace Pulse.WebSockets;

internal sealed partial class WebSocketConnection : IThreadPoolWorkItem
{
    // Guards the reply queue, the slot list and the close state; held only for queue operations and copies.
    private readonly Lock _sync = new();

    // Replies and pongs in order, each a rented array holding one encoded frame. Never dropped; bounded
    // by _options.MaxQueuedReplyBytes (the socket is closed with 1008 past it).
    private Queue<(byte[] Frame, int Length)>? _replies;
    private int _queuedBytes;

    // The slots of joined topics; the writer takes the newest frame of each.
    private List<FrameSlot>? _slots;

    // The Close frame once queued; after it nothing else is written (§5.5.1).
    private byte[]? _closeFrame;
    private bool _closeQueued;
    private long _closeQueuedAt;
    private TaskCompletionSource? _closeWritten;
    private bool _stopped;

    // 1 while a writer is scheduled or running: at most one writer per socket, none while idle.
    private int _writeScheduled;

    // Set by the read loop while it parses a batch: writes wait for the batch end, then go out together.
    private volatile bool _inReadBatch;

    // Timestamp at which a flush went asynchronous (the peer is not reading), or 0; read by the heartbeat.
    private long _flushStartedAt;

    private bool IsClosing
    {
        get
        {
            lock (_sync)
            {
                return _closeQueued;
            }
        }
    }

    /// <summary>Queues one text message (a reply); never dropped, written in order.</summary>
    public void SendText(ReadOnlySpan<byte> utf8Payload) => QueueFrame(Opcode.Text, utf8Payload);

    /// <summary>A latest-only slot for shared, pre-encoded frames; one per joined topic.</summary>
    public FrameSlot CreateSlot()
    {
        var slot = new FrameSlot(this);
        lock (_sync)
        {
            (_slots ??= []).Add(slot);
        }

        return slot;
    }

    /// <summary>Starts the close handshake with <paramref name="code"/> (RFC 6455 §7.4); the peer has <c>CloseTimeoutSeconds</c> to answer.</summary>
    public void Close(ushort code, string reason)
    {
        QueueClose(code, reason);
        ScheduleWrite();
    }

    internal void RemoveSlot(FrameSlot slot)
    {
        lock (_sync)
        {
            _slots?.Remove(slot);
        }
    }

    private void QueueFrame(Opcode opcode, ReadOnlySpan<byte> payload)
    {
        int length = FrameWriter.GetFrameLength(payload.Length);
        var frame = ArrayPool<byte>.Shared.Rent(length);
        FrameWriter.Write(frame, opcode, payload);
        bool overflow = false;
        lock (_sync)
        {
            if (_closeQueued || _stopped)
            {
                ArrayPool<byte>.Shared.Return(frame);
                return;
            }

            if (_queuedBytes + length > _options.MaxQueuedReplyBytes)
            {
                overflow = true;
                ArrayPool<byte>.Shared.Return(frame);
            }
            else
            {
                (_replies ??= new Queue<(byte[], int)>()).Enqueue((frame, length));
                _queuedBytes += length;
            }
        }

        if (overflow)
        {
            // The peer lets replies pile up (it does not read); 1008 rather than memory without bound.
            WebSocketsLog.ReplyQueueFull(_logger, ConnectionId, _options.MaxQueuedReplyBytes);
            ReleaseReplies();
            QueueClose(WebSocketCloseCode.PolicyViolation, "too many unread replies");
        }

        if (!_inReadBatch)
        {
            ScheduleWrite();
        }
    }

    private void QueueClose(ushort code, string reason)
    {
        var frame = FrameWriter.EncodeClose(code, reason);
        lock (_sync)
        {
            if (_closeQueued || _stopped)
            {
                return;
            }

            _closeFrame = frame;
            _closeQueued = true;
            _closeQueuedAt = _time.GetTimestamp();
            _closeWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Starts the writer on the thread pool unless one is already scheduled or running.</summary>
    internal void ScheduleWrite()
    {
        if (Interlocked.CompareExchange(ref _writeScheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = WriteLoopAsync();

    private async Task WriteLoopAsync()
    {
        var output = _context.Transport.Output;
        try
        {
            while (true)
            {
                bool closeWritten;
                bool wrote;
                lock (_sync)
                {
                    wrote = WritePending(output, out closeWritten);
                }

                if (!wrote)
                {
                    // Going idle: release the flag, then look again so that work queued in between is not missed.
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
                    _closeWritten?.TrySetResult();
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            WebSocketsLog.TransportError(_logger, ConnectionId, ex);
            _closeWritten?.TrySetResult();
        }
    }

    /// <summary>Copies replies, then each slot's newest frame, then the Close frame into the pipe. Under <c>_sync</c>.</summary>
    private bool WritePending(PipeWriter output, out bool closeWritten)
    {
        closeWritten = false;
        if (_stopped)
        {
            return false;
        }

        bool wrote = false;
        while (_replies is { Count: > 0 })
        {
            var (frame, length) = _replies.Dequeue();
            _queuedBytes -= length;
            output.Write(frame.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(frame);
            wrote = true;
        }

        if (_slots is not null && !_closeQueued)
        {
            foreach (var slot in _slots)
            {
                if (slot.Take() is { } shared)
                {
                    output.Write(shared.Bytes);
                    wrote = true;
                }
            }
        }

        if (_closeFrame is not null)
        {
            output.Write(_closeFrame);
            _closeFrame = null;
            closeWritten = true;
            wrote = true;
        }

        return wrote;
    }

    private bool HasWork()
    {
        lock (_sync)
        {
            return !_stopped && (_replies is { Count: > 0 } || _closeFrame is not null || (_slots?.Exists(s => s.HasPending) ?? false));
        }
    }

    private void ReleaseReplies()
    {
        lock (_sync)
        {
            while (_replies is { Count: > 0 })
            {
                ArrayPool<byte>.Shared.Return(_replies.Dequeue().Frame);
            }

            _queuedBytes = 0;
        }
    }

    private async Task WaitForCloseFrameAsync()
    {
        TaskCompletionSource? closeWritten;
        lock (_sync)
        {
            closeWritten = _closeWritten;
        }

        if (closeWritten is null)
        {
            return;
        }

        ScheduleWrite();
        try
        {
            // Bounded: a peer that does not read cannot keep the connection open through our Close frame.
            await closeWritten.Task.WaitAsync(TimeSpan.FromSeconds(_options.WriteTimeoutSeconds), _time);
        }
        catch (TimeoutException)
        {
            WebSocketsLog.WriteTimeout(_logger, ConnectionId, _options.WriteTimeoutSeconds);
        }
    }

    /// <summary>The connection is over: no more writes, queued replies go back to the pool.</summary>
    private void StopWriting()
    {
        ReleaseReplies();
        lock (_sync)
        {
            _stopped = true;
            _closeFrame = null;
            _slots?.Clear();
        }
    }
}
