using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>What is queued for the peer: replies in order, ready broadcast slots, the Close frame; and the limits on it.</summary>
/// <remarks>
/// Backpressure (issue 10): the limit is on what a peer leaves unread, not on what one read batch
/// produces. The read loop parses no further frame while <see cref="_pauseBytes"/> of replies wait for the
/// socket, and resumes once fewer wait and the transport takes more (a flush has completed;
/// <see cref="WaitForRepliesDrainedAsync"/>): a peer that reads at full speed is only slowed to the speed
/// it reads at, however many joins it pipelines; one that stops reading stops being read. What the server
/// then holds for it is bounded: below <see cref="_pauseBytes"/> plus one message's replies in the queue,
/// and below the transport's pause threshold (Kestrel: 64 KiB) plus <see cref="WriteChunkBytes"/> in the
/// output pipe (the unread input stays in Kestrel's input pipe, up to its <c>MaxReadBufferSize</c>).
/// <c>WebSocket:MaxQueuedReplyBytes</c> caps the queue while the output does not drain (the writer's
/// flush is pending): a reply past it is not queued and the socket is closed with 1008 (the replies
/// already queued go first). With the reader paused long before, only a reply that is not an answer to the
/// peer's own message, or one single reply larger than the limit less the pause threshold, can get there.
/// Replies are held as bytes in pooled 4 KiB segments (<see cref="ReplyBuffer"/>), so the bytes counted are
/// the memory held, to one segment.
/// </remarks>
internal sealed partial class WebSocketConnection : IThreadPoolWorkItem
{
    /// <summary>
    /// Replies waiting for the socket at which the read loop stops parsing: what Kestrel's output pipe
    /// holds before it pauses a writer (<c>SocketTransportOptions.MaxWriteBufferSize</c>, 64 KiB). A peer
    /// that reads drains it in microseconds on loopback and in one round trip elsewhere; a join of a
    /// one-day event (~120 KB of reply) pauses the reader until that reply is in the pipe.
    /// </summary>
    internal const int ReplyPauseBytes = 64 * 1024;

    // Guards the reply queue, the ready queue, the frame being written and the close state; held only for
    // queue operations and copies into the pipe, never across a flush.
    private readonly Lock _sync = new();

    // Replies and pongs in order, as whole frames; never dropped (past the limit, later ones are not
    // queued: the Close frame follows those already there). _queuedBytes: _replies.Length, for the read loop.
    private ReplyBuffer? _replies;
    private int _queuedBytes;

    // Slots with a frame to write, each at most once (its _queued flag), in the order they became ready:
    // the writer takes the newest frame of each in turn, so the socket's topics share it round-robin. The
    // connection keeps no list of its slots: a joined topic is one ChannelSubscription and its slot. A
    // Queue under _sync rather than a concurrent queue: the writer holds _sync for each chunk anyway, an
    // offer enqueues only when its slot becomes ready, and a Queue costs a few words per socket.
    private Queue<FrameSlot>? _ready;

    // The Close frame once queued; after it nothing else is written (§5.5.1).
    private byte[]? _closeFrame;
    private bool _closeQueued;
    private long _closeQueuedAt;
    private TaskCompletionSource? _closeWritten;
    private bool _stopped;

    /// <summary>Replies and pongs waiting for the socket (not yet in the transport's pipe); for tests.</summary>
    internal int QueuedReplyBytes
    {
        get
        {
            lock (_sync)
            {
                return _queuedBytes;
            }
        }
    }

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
    public void SendText(ReadOnlySpan<byte> utf8Payload) => QueueFrame(Opcode.Text, utf8Payload, null, 0);

    /// <summary>
    /// Queues a join reply carrying the snapshot of <paramref name="snapshotVersion"/>, then opens
    /// <paramref name="slot"/> in the same step: its broadcasts follow the reply, and only those newer than it.
    /// </summary>
    public void SendJoinReply(FrameSlot slot, ReadOnlySpan<byte> utf8Payload, long snapshotVersion) =>
        QueueFrame(Opcode.Text, utf8Payload, slot, snapshotVersion);

    /// <summary>A closed latest-only slot for shared, pre-encoded frames; one per joined topic (see <see cref="FrameSlot"/>).</summary>
    /// <remarks>Registers nothing. It creates the ready queue on the first join, so that offers never allocate.</remarks>
    public FrameSlot CreateSlot()
    {
        lock (_sync)
        {
            _ready ??= new Queue<FrameSlot>();
        }

        return new FrameSlot(this, _metrics);
    }

    /// <summary>Starts the close handshake with <paramref name="code"/> (RFC 6455 §7.4); the peer has <c>CloseTimeoutSeconds</c> to answer.</summary>
    public void Close(ushort code, string reason)
    {
        QueueClose(code, reason);
        ScheduleWrite();
    }

    /// <summary>Queues <paramref name="slot"/>, just made ready by an offer (its flag went 0 → 1), and starts the writer.</summary>
    internal void EnqueueReady(FrameSlot slot)
    {
        lock (_sync)
        {
            EnqueueReadyLocked(slot);
        }

        ScheduleWrite();
    }

    /// <summary>Under <c>_sync</c>. Once the Close frame is queued no slot frame is written, so none is queued.</summary>
    private void EnqueueReadyLocked(FrameSlot slot)
    {
        if (!_closeQueued && !_stopped && !_outputDone)
        {
            (_ready ??= new Queue<FrameSlot>()).Enqueue(slot);
        }
    }

    private void QueueFrame(Opcode opcode, ReadOnlySpan<byte> payload, FrameSlot? open, long version)
    {
        int length = FrameWriter.GetFrameLength(payload.Length);
        bool overflow = false;
        lock (_sync)
        {
            if (_closeQueued || _stopped || _outputDone)
            {
                return;
            }

            if (_queuedBytes + length > _options.MaxQueuedReplyBytes && OutputBlocked)
            {
                overflow = true;
            }
            else
            {
                (_replies ??= new ReplyBuffer()).AppendFrame(opcode, payload);
                _queuedBytes += length;
                if (open is not null && open.Open(version))
                {
                    // Offered while closed: behind the reply just queued, since the writer takes slot
                    // frames only once no reply waits. The ScheduleWrite below starts the writer.
                    EnqueueReadyLocked(open);
                }
            }
        }

        if (overflow)
        {
            // The output does not drain and this reply would pass the limit: 1008 rather than memory without
            // bound. The replies already queued stay (at most the limit): a peer that reads again gets them,
            // then the Close frame.
            WebSocketsLog.ReplyQueueFull(_logger, ConnectionId, _options.MaxQueuedReplyBytes);
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
        TaskCompletionSource? drained;
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
            (drained, _drained) = (_drained, null);
        }

        // A read loop paused for the replies goes on: it now only waits for the peer's Close.
        drained?.TrySetResult();
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
        TaskCompletionSource? drained;
        lock (_sync)
        {
            _stopped = true;
            _closeFrame = null;
            _ready?.Clear();
            _replies?.Clear();
            _queuedBytes = 0;
            _current = default;
            (drained, _drained) = (_drained, null);
        }

        drained?.TrySetResult();
    }
}
