using System.Buffers;

namespace Pulse.WebSockets;

/// <summary>
/// Follows the framing of the HTTP/1.1 requests of one connection (RFC 9112 §2.2, §6.3, §7.1), so that the
/// transport knows where each request ends: the only places where a keep-alive connection may turn into a
/// WebSocket. Pure and incremental: each call reads on from where the previous one stopped (the bytes it left
/// unread, then newer ones) and keeps between calls only the state of the message in progress.
/// </summary>
/// <remarks>
/// It follows, it never judges: Kestrel parses and validates the same bytes. Where the two could disagree
/// on where a request ends (a Content-Length that is repeated or not a number, a transfer coding other than a
/// final <c>chunked</c>, Transfer-Encoding together with Content-Length, <c>Connection: upgrade</c> to anything
/// else, <c>CONNECT</c>, a malformed chunk, a head or line past <see cref="MaxHeadBytes"/>), it stops for good
/// (<see cref="IsTracking"/> false): every later byte is Kestrel's, which answers as it always does (mostly 400
/// and a close), and the connection is never upgraded.
/// </remarks>
internal sealed partial class HttpRequestFraming
{
    /// <summary>
    /// Kestrel refuses a request line over 8 KiB (414) and header fields over 32 KiB in total (431) by default
    /// (KestrelServerLimits); a head, trailer section or chunk line that grows past 64 KiB has long been refused
    /// there, so following it further would only hold bytes back for nothing.
    /// </summary>
    public const int MaxHeadBytes = 64 * 1024;

    /// <summary>A multi-segment line is copied to the stack to be read; longer lines are only searched for their end.</summary>
    private const int MaxInspectedLineBytes = 512;

    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private State _state = State.Boundary;

    // Head: what the fields said so far. Body and chunk data: bytes still to come.
    private long _remaining;
    private long? _contentLength;
    private bool _hasTransferEncoding;
    private bool _chunked;
    private bool _unfollowable;
    private bool _requestLine;

    // Bytes of the head (or trailer section, or chunk-size line) read so far, and the bytes of an incomplete
    // line already searched for its LF, so that a line arriving a byte at a time is not searched again each time.
    private int _lineBytes;
    private int _searched;

    private enum State
    {
        Boundary,
        Head,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Untracked,
    }

    /// <summary>False once a request could not be followed; from then on every byte belongs to Kestrel.</summary>
    public bool IsTracking => _state != State.Untracked;

    /// <summary>
    /// True between the start of an ordinary request's head and the end of its body: the bytes after those read
    /// (an incomplete line at most) belong to that request, never to the next head.
    /// </summary>
    public bool InRequest => _state is not (State.Boundary or State.Untracked);

    /// <summary>Request heads read to their end.</summary>
    public int Requests { get; private set; }

    /// <summary>
    /// Reads the bytes of the request in progress. True when <paramref name="reader"/> stands at the first byte
    /// of a new request head (the empty lines a client may send between requests skipped, as Kestrel does): the
    /// caller looks at it and then calls <see cref="StartHead"/>, or keeps the head for itself. False when every
    /// byte that can be attributed has been read and more are needed (an incomplete line is left unread), or when
    /// tracking stops (the reader is then at its end).
    /// </summary>
    public bool TryReadToNextHead(ref SequenceReader<byte> reader)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Boundary:
                    // §2.2: "a server … SHOULD ignore at least one empty line (CRLF) received prior to the request-line".
                    reader.AdvancePastAny((byte)'\r', (byte)'\n');
                    return !reader.End;
                case State.Head:
                case State.Trailers:
                case State.ChunkSize:
                    if (!TryReadLine(ref reader, out var line))
                    {
                        return false;
                    }

                    OnLine(line);
                    break;
                case State.Body:
                case State.ChunkData:
                    long take = Math.Min(_remaining, reader.Remaining);
                    reader.Advance(take);
                    _remaining -= take;
                    if (_remaining > 0)
                    {
                        return false;
                    }

                    _state = _state == State.Body ? State.Boundary : State.ChunkDataEnd;
                    break;
                case State.ChunkDataEnd:
                    // §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                    if (reader.IsNext(Crlf, advancePast: true))
                    {
                        _state = State.ChunkSize;
                        break;
                    }

                    if (reader.Remaining >= 2 || (reader.Remaining == 1 && !reader.IsNext((byte)'\r')))
                    {
                        Stop(ref reader);
                    }

                    return false;
                default:
                    reader.AdvanceToEnd();
                    return false;
            }
        }
    }

    /// <summary>The head at the reader is an ordinary request: follow it and its body.</summary>
    public void StartHead()
    {
        if (_state != State.Boundary)
        {
            throw new InvalidOperationException("a request head starts only at a request boundary");
        }

        _state = State.Head;
        _requestLine = true;
        _contentLength = null;
        _hasTransferEncoding = _chunked = _unfollowable = false;
        _lineBytes = 0;
    }

    private bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        var start = reader.Position;
        int searched = _searched;
        reader.Advance(searched);
        if (!reader.TryAdvanceTo((byte)'\n'))
        {
            // An incomplete line stays unread; only how much of it holds no LF is remembered.
            long incomplete = searched + reader.Remaining;
            reader.Rewind(searched);
            if (_lineBytes + incomplete > MaxHeadBytes)
            {
                Stop(ref reader);
            }
            else
            {
                _searched = (int)incomplete;
            }

            line = default;
            return false;
        }

        line = reader.Sequence.Slice(start, reader.Position);
        _searched = 0;
        _lineBytes += (int)line.Length;
        if (_lineBytes > MaxHeadBytes)
        {
            Stop(ref reader);
            return false;
        }

        return true;
    }

    private void OnLine(in ReadOnlySequence<byte> sequence)
    {
        scoped ReadOnlySpan<byte> line;
        if (sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
        }
        else
        {
            // A line across segments is copied, up to its first bytes: names, the method, a chunk size.
            Span<byte> copy = stackalloc byte[MaxInspectedLineBytes];
            int length = (int)Math.Min(sequence.Length, MaxInspectedLineBytes);
            sequence.Slice(0, length).CopyTo(copy);
            line = copy[..length];
            if (length < sequence.Length && _state == State.Head && !_requestLine && IsFramingField(line))
            {
                _unfollowable = true; // a framing field hundreds of bytes long: no client sends one
            }
        }

        line = line.TrimEnd("\r\n"u8);
        switch (_state)
        {
            case State.Head when _requestLine:
                _requestLine = false;
                // §9.3.6: CONNECT turns the connection into a tunnel; Kestrel decides what follows.
                _unfollowable |= line.StartsWith("CONNECT "u8);
                break;
            case State.Head when line.IsEmpty:
                EndHead();
                break;
            case State.Head:
                OnField(line);
                break;
            case State.ChunkSize:
                OnChunkSize(line);
                break;
            case State.Trailers when line.IsEmpty:
                // §7.1: last-chunk trailer-section CRLF: the message ends with the empty line.
                _state = State.Boundary;
                break;
        }
    }

    private void Stop(ref SequenceReader<byte> reader)
    {
        _state = State.Untracked;
        _searched = 0;
        reader.AdvanceToEnd();
    }
}
