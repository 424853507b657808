using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Pulse.WebSockets;

/// <summary>
/// Kestrel's input on a keep-alive connection: the transport's own <see cref="PipeReader"/>, shown only up to the
/// end of the last request <see cref="HttpRequestFraming"/> has followed. When a request boundary brings a head for
/// <c>/socket/websocket</c>, that head (and all after it) stays hidden, and once Kestrel has consumed every request
/// before it, the input reads as completed: Kestrel answers what it was sent, in order, and leaves its request
/// loop as after a client's FIN (RFC 9112 §9.6), and the middleware takes the head from the transport.
/// </summary>
/// <remarks>
/// No bytes are copied and no pipe is added: positions are the transport's. Held back are only an incomplete
/// line (Kestrel would not consume it either), the first bytes of a head too short to tell whether it is an
/// upgrade (Classify decides within the first ~25), and the upgrade head. When Kestrel has examined all it was
/// shown, the transport is told that everything was examined unless the hidden bytes are a complete answer
/// (the upgrade), so a read waits for new bytes instead of spinning. Should Kestrel ever want more than the requests
/// counted before an upgrade head (the two parsers disagree), everything is shown from then on and the connection
/// stays HTTP. Single reader, as every <see cref="PipeReader"/>: Kestrel's request loop.
/// </remarks>
internal sealed class RequestBoundaryReader(PipeReader inner, int maxUpgradeHeadBytes) : PipeReader
{
    private readonly HttpRequestFraming _framing = new();

    // The transport's buffer of the read in progress, and how many bytes at its start Kestrel may see.
    private ReadOnlySequence<byte> _buffer;
    private long _released;

    // Bytes at the buffer's start that the framing has read; _released may go past them by the incomplete line
    // of an ordinary request, which Kestrel must see so that its request-head timeout runs (a slowloris that
    // sends half a head would otherwise wait out the keep-alive timeout), but which the framing reads again.
    private long _framed;

    // Bytes at the buffer's start the transport was told are examined (kept so that it never goes backwards).
    private long _examined;
    private bool _readPending;
    private bool _passThrough;
    private bool _upgradeAhead;

    /// <summary>
    /// True once Kestrel was told that its input ended at a WebSocket upgrade head: its request loop then ends
    /// without closing anything, and the head is first in the transport's input.
    /// </summary>
    public bool EndedAtUpgrade { get; private set; }

    /// <summary>Request heads Kestrel was shown (for the log).</summary>
    public int Requests => _framing.Requests;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (TryEndAtUpgrade(out var ended))
        {
            return new(ended);
        }

        var read = inner.ReadAsync(cancellationToken);
        return read.IsCompletedSuccessfully ? new(OnRead(read.Result)) : AwaitReadAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (TryEndAtUpgrade(out result))
        {
            return true;
        }

        if (!inner.TryRead(out var read))
        {
            return false;
        }

        result = OnRead(read);
        if (result.Buffer.IsEmpty && !result.IsCompleted && !result.IsCanceled)
        {
            // Only held-back bytes: nothing to read yet.
            AdvanceTo(result.Buffer.Start);
            return false;
        }

        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_readPending)
        {
            return; // the end reported at an upgrade head: nothing was read from the transport
        }

        _readPending = false;
        long consumedBytes = _buffer.Slice(0, consumed).Length;
        long examinedBytes = _buffer.Slice(0, examined).Length;
        if (!_passThrough && examinedBytes >= _released)
        {
            if (!_upgradeAhead)
            {
                examinedBytes = _buffer.Length; // what is held back is incomplete: wait for more bytes
            }
            else if (consumedBytes < _released)
            {
                _passThrough = true; // Kestrel waits for more of a request we counted as complete
            }
        }

        // A pipe refuses an examined position before one it was given earlier (it would mean "look again").
        examinedBytes = Math.Max(examinedBytes, _examined);
        _examined = examinedBytes - consumedBytes;
        if (!_passThrough && consumedBytes > _framed)
        {
            _passThrough = true; // Kestrel consumed part of a line the framing has not read: the parsers disagree
        }

        _released = Math.Max(_released - consumedBytes, 0);
        _framed = Math.Max(_framed - consumedBytes, 0);
        var transportExamined = examinedBytes == _buffer.Length ? _buffer.End : _buffer.GetPosition(examinedBytes);
        _buffer = default;
        inner.AdvanceTo(consumed, transportExamined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    /// <summary>Kestrel completes its input when its loop ends; the transport's input lives on for the WebSocket.</summary>
    public override void Complete(Exception? exception = null)
    {
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitReadAsync(ValueTask<ReadResult> read) => OnRead(await read);

    private bool TryEndAtUpgrade(out ReadResult result)
    {
        if (_upgradeAhead && _released == 0 && !_passThrough && !_readPending)
        {
            EndedAtUpgrade = true;
            result = new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
            return true;
        }

        result = default;
        return false;
    }

    private ReadResult OnRead(ReadResult read)
    {
        _readPending = true;
        _buffer = read.Buffer;
        if (!_passThrough)
        {
            Scan(read.IsCompleted);
        }

        if (_passThrough)
        {
            return read;
        }

        if (_upgradeAhead && _released == 0 && !read.IsCanceled)
        {
            EndedAtUpgrade = true;
            return new ReadResult(_buffer.Slice(0, 0), isCanceled: false, isCompleted: true);
        }

        return new ReadResult(_buffer.Slice(0, _released), read.IsCanceled, read.IsCompleted);
    }

    /// <summary>Follows the bytes Kestrel has not been shown yet, releasing every complete request.</summary>
    private void Scan(bool transportCompleted)
    {
        var reader = new SequenceReader<byte>(_buffer.Slice(_framed));
        while (!_upgradeAhead && _framing.TryReadToNextHead(ref reader))
        {
            var kind = HandshakeParser.Classify(reader.UnreadSequence, maxUpgradeHeadBytes, out _);
            if (kind == HeadKind.NotWebSocket)
            {
                _framing.StartHead();
            }
            else if (kind == HeadKind.NeedMore)
            {
                break;
            }
            else
            {
                // WebSocket, NeedMoreWebSocket, TooLarge: the middleware answers it, as on a first request.
                _upgradeAhead = true;
            }
        }

        _framed += reader.Consumed;
        _released = _framing.InRequest && !_upgradeAhead ? _buffer.Length : _framed;

        // After the client's FIN, nothing held back can complete: Kestrel sees it all and answers as it would.
        if (!_framing.IsTracking || (transportCompleted && !_upgradeAhead))
        {
            _passThrough = true;
        }
    }
}
