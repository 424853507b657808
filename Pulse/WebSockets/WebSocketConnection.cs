using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Pulse.Configuration;
using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>One upgraded socket: a read loop over the transport's input pipe and a lazily started writer.</summary>
/// <remarks>
/// Concurrency model: <see cref="RunAsync"/> is the only reader and calls the handler one message at a time.
/// <see cref="SendText"/>, <see cref="Close"/> and <see cref="FrameSlot.Offer"/> may be called from any
/// thread; they queue under <c>_sync</c> (an offer only when it makes its slot ready: the ready queue, see
/// <see cref="FrameSlot"/>) and schedule the writer, which runs on the thread pool only while there is
/// something to write (one writer at a time, guarded by <c>_writeScheduled</c>).
/// Lifecycle: handshake → <see cref="RunAsync"/> → Close frames exchanged (or abort) → handler's
/// <see cref="IWebSocketHandler.OnClosed"/> exactly once → the middleware returns and Kestrel closes the socket.
/// Backpressure: the read loop parses no further frame while its replies wait for a peer that does not read
/// (see <c>WebSocketConnection.Write.cs</c>).
/// Invariant: nothing is written after the Close frame (RFC 6455 §5.5.1).
/// </remarks>
internal sealed partial class WebSocketConnection
{
    private readonly ConnectionContext _context;
    private readonly WebSocketTransportOptions _options;
    private readonly WebSocketHeartbeat _heartbeat;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PulseMetrics _metrics;

    // Timestamp (TimeProvider ticks) of the last read that brought bytes; read by the heartbeat scan.
    private long _lastReceived;

    // True while the read loop waits for its replies to drain (backpressure); for tests.
    private volatile bool _readPaused;

    internal WebSocketConnection(ConnectionContext context, WebSocketTransportOptions options, WebSocketHeartbeat heartbeat, ILogger logger, TimeProvider time, PulseMetrics metrics)
    {
        _context = context;
        _options = options;
        _heartbeat = heartbeat;
        _logger = logger;
        _time = time;
        _metrics = metrics;
        _lastReceived = time.GetTimestamp();
        _pauseBytes = Math.Min(ReplyPauseBytes, options.MaxQueuedReplyBytes / 2);
    }

    /// <summary>True while the read loop parses nothing because its replies wait for the peer to read.</summary>
    internal bool ReadPaused => _readPaused;

    /// <summary>Unique per process, for logs (Kestrel's connection id).</summary>
    public string ConnectionId => _context.ConnectionId;

    /// <summary>Runs the read loop until the close handshake, a violation, the peer's disconnect or an abort.</summary>
    public async Task RunAsync(IWebSocketHandler handler)
    {
        _metrics.ConnectionOpened();
        _heartbeat.Register(this);
        var reader = new FrameReader(_options.MaxMessageBytes);
        try
        {
            await ReadLoopAsync(handler, reader);
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
        {
            WebSocketsLog.TransportError(_logger, ConnectionId, ex);
        }
        finally
        {
            reader.Dispose();
            await WaitForCloseFrameAsync();
            StopWriting();
            _heartbeat.Unregister(this);
            _metrics.ConnectionClosed();
            handler.OnClosed();
        }
    }

    private async Task ReadLoopAsync(IWebSocketHandler handler, FrameReader reader)
    {
        var input = _context.Transport.Input;
        while (true)
        {
            // Kestrel's socket transport waits for data with a zero-byte receive before it rents a
            // buffer (SocketTransportOptions.WaitForDataBeforeAllocatingBuffer, default true), and we
            // consume every complete frame below, so an idle socket holds no receive buffer.
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                return;
            }

            if (!buffer.IsEmpty)
            {
                Volatile.Write(ref _lastReceived, _time.GetTimestamp());
            }

            bool done = false;
            _inReadBatch = true;
            try
            {
                while (!done && reader.TryRead(ref buffer, out var opcode))
                {
                    done = await OnFrameAsync(handler, reader, opcode);
                    if (!done && Volatile.Read(ref _queuedBytes) >= _pauseBytes)
                    {
                        // Backpressure: the next frame is parsed once the replies so far are on their way. A
                        // peer that reads loses nothing by it; one that does not is not read either, and the
                        // bytes it has sent wait in the transport's input pipe, then in the kernel.
                        reader.ReleaseDelivered();
                        _inReadBatch = false;
                        var drained = WaitForRepliesDrainedAsync();
                        if (!drained.IsCompleted)
                        {
                            _readPaused = true;
                            await drained;
                            _readPaused = false;
                        }

                        _inReadBatch = true;
                    }
                }
            }
            catch (WebSocketProtocolException ex)
            {
                // §7.1.7 "Fail the WebSocket Connection": send the Close frame, then drop the TCP connection.
                WebSocketsLog.ProtocolViolation(_logger, ConnectionId, ex.CloseCode, ex.Message);
                QueueClose(ex.CloseCode, ex.Message);
                return;
            }
            finally
            {
                // Flush only once the input is drained: replies to a burst of messages go out in one write.
                _inReadBatch = false;
                ScheduleWrite();
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (done || result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Acts on one message or control frame; <c>true</c> when the close handshake is complete.</summary>
    private async ValueTask<bool> OnFrameAsync(IWebSocketHandler handler, FrameReader reader, Opcode opcode)
    {
        switch (opcode)
        {
            case Opcode.Text when !IsClosing:
                try
                {
                    await handler.OnTextMessageAsync(new ReadOnlySequence<byte>(reader.PayloadMemory));
                }
                catch (Exception ex) when (ex is not WebSocketProtocolException)
                {
                    WebSocketsLog.HandlerFailed(_logger, ConnectionId, ex);
                    QueueClose(WebSocketCloseCode.InternalError, "internal error");
                }

                return false;
            case Opcode.Binary when !IsClosing:
                // §7.4.1 1003: "received a type of data it cannot accept"; Phoenix's V2 text protocol has no binary.
                QueueClose(WebSocketCloseCode.UnsupportedData, "binary messages are not supported");
                return false;
            case Opcode.Ping:
                // §5.5.3: "a Pong frame sent in response to a Ping frame must have identical Application data".
                QueueFrame(Opcode.Pong, reader.Payload, null, 0);
                return false;
            case Opcode.Close:
                // §5.5.1: answer with a Close frame (echoing the code), then the server closes TCP first (§7.1.1).
                WebSocketsLog.ClosedByPeer(_logger, ConnectionId, reader.CloseCode);
                QueueClose(reader.CloseCode, string.Empty);
                return true;
            default:
                // Pongs (unsolicited ones are allowed, §5.5.3) and messages arriving after our Close frame.
                return false;
        }
    }
}
