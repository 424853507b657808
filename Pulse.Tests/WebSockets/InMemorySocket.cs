using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// A <see cref="WebSocketConnection"/> on in-memory pipes, past the handshake: the test is the peer. The
/// pipe towards the peer pauses its writer at <c>outputPauseBytes</c> (Kestrel's is 64 KiB), so "the peer
/// does not read" is exact: nothing the test has not read leaves the pipe.
/// </summary>
internal sealed class InMemorySocket : IAsyncDisposable
{
    // Never pauses the test's writes: what the server leaves unread stays here, as it would in Kestrel's input pipe.
    private readonly Pipe _toServer = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Pipe _fromServer;
    private readonly WebSocketHeartbeat _heartbeat = new(TimeProvider.System, NullLogger.Instance);
    private readonly Task _run;

    private InMemorySocket(WebSocketTransportOptions options, int outputPauseBytes, Func<WebSocketConnection, IWebSocketHandler> handler)
    {
        _fromServer = new Pipe(new PipeOptions(pauseWriterThreshold: outputPauseBytes, resumeWriterThreshold: outputPauseBytes, useSynchronizationContext: false));
        var context = new DefaultConnectionContext("mem", new DuplexPipe(_toServer.Reader, _fromServer.Writer), new DuplexPipe(_fromServer.Reader, _toServer.Writer));
        Connection = new WebSocketConnection(context, options, _heartbeat, NullLogger.Instance, TimeProvider.System, Metrics);
        var h = handler(Connection);
        _run = Task.Run(() => Connection.RunAsync(h));
    }

    public WebSocketConnection Connection { get; }

    /// <summary>The connection's own instruments (a meter of its own, so parallel tests do not share counts).</summary>
    public PulseMetrics Metrics { get; } = new();

    public static InMemorySocket Start(WebSocketTransportOptions options, int outputPauseBytes, Func<WebSocketConnection, IWebSocketHandler> handler) =>
        new(options, outputPauseBytes, handler);

    /// <summary>Writes client frames as one write of the peer.</summary>
    public async Task SendAsync(params byte[][] frames)
    {
        await _toServer.Writer.WriteAsync(ClientFrames.Concat(frames));
    }

    /// <summary>Bytes the server has put in the pipe towards the peer and the peer has not read; reads nothing.</summary>
    public long UnreadOutputBytes()
    {
        if (!_fromServer.Reader.TryRead(out var result))
        {
            return 0;
        }

        long length = result.Buffer.Length;
        _fromServer.Reader.AdvanceTo(result.Buffer.Start);
        return length;
    }

    /// <summary>Reads <paramref name="count"/> server frames (any length encoding): opcode byte and payload.</summary>
    public async Task<List<(byte B0, byte[] Payload)>> ReadFramesAsync(int count, TimeSpan? timeout = null)
    {
        var frames = new List<(byte, byte[])>();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (frames.Count < count)
        {
            var result = await _fromServer.Reader.ReadAsync(cancel.Token);
            var buffer = result.Buffer;
            while (frames.Count < count && TryParse(ref buffer, out var frame))
            {
                frames.Add(frame);
            }

            // All examined only when more is needed: frames already here past the count stay readable at once.
            _fromServer.Reader.AdvanceTo(buffer.Start, frames.Count < count ? buffer.End : buffer.Start);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return frames;
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _fromServer.Reader.CompleteAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
        _heartbeat.Dispose();
        Metrics.Dispose();
    }

    private static bool TryParse(ref ReadOnlySequence<byte> buffer, out (byte B0, byte[] Payload) frame)
    {
        frame = default;
        if (buffer.Length < 2)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[10];
        int available = (int)Math.Min(buffer.Length, 10);
        buffer.Slice(0, available).CopyTo(head);
        int lengthField = head[1] & 0x7F;
        int headerLength = lengthField switch { 126 => 4, 127 => 10, _ => 2 };
        if (available < headerLength)
        {
            return false;
        }

        long length = lengthField switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(head[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(head[2..]),
            _ => lengthField,
        };
        if (buffer.Length < headerLength + length)
        {
            return false;
        }

        frame = (head[0], buffer.Slice(headerLength, length).ToArray());
        buffer = buffer.Slice(headerLength + length);
        return true;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>Echoes every text message and counts them.</summary>
internal sealed class CountingEcho(WebSocketConnection connection) : IWebSocketHandler
{
    private int _handled;

    public int Handled => Volatile.Read(ref _handled);

    public ValueTask OnTextMessageAsync(ReadOnlySequence<byte> message)
    {
        // Counted once the echo is queued (or refused): a test that waits for the count sees its effect.
        connection.SendText(message.ToArray());
        Interlocked.Increment(ref _handled);
        return ValueTask.CompletedTask;
    }

    public void OnClosed()
    {
    }
}
