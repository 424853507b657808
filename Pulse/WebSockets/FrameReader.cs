using System.Buffers;

namespace Pulse.WebSockets;

/// <summary>
/// Turns the bytes of one client connection into messages and control frames: validates frame order
/// (fragmentation, §5.4), the message-size limit, UTF-8 of text (§8.1) and close payloads (§5.5.1, §7.4).
/// Pure and synchronous: <see cref="TryRead"/> returns <c>false</c> when it needs more bytes, and every
/// violation throws <see cref="WebSocketProtocolException"/> carrying the close code.
/// </summary>
/// <remarks>
/// Not thread-safe: one connection's read loop owns it. Buffers come from <see cref="ArrayPool{T}"/> only
/// while a message or control frame is being received, and go back on the next call or on
/// <see cref="Dispose"/>, so an idle connection's reader holds no buffer. A message's buffer grows with
/// the bytes received, never with the length a header declares (that is only checked against the limit).
/// </remarks>
internal sealed partial class FrameReader(int maxMessageBytes) : IDisposable
{
    private const Opcode NoMessage = (Opcode)0xFF;

    // The data frame whose payload is being copied, and how much of it is still to come.
    private FrameHeader _frame;
    private long _frameRemaining;
    private int _maskOffset;
    private bool _inFrame;

    // The message being reassembled from its fragments.
    private Opcode _messageOpcode = NoMessage;
    private byte[]? _message;
    private int _messageLength;
    private int _utf8Validated;
    private bool _messageDelivered;

    // The last control frame's unmasked payload (at most 125 bytes).
    private byte[]? _control;
    private int _controlLength;

    /// <summary>The payload of what the last successful <see cref="TryRead"/> returned; valid until the next call.</summary>
    public ReadOnlySpan<byte> Payload => PayloadMemory.Span;

    /// <summary><see cref="Payload"/> as memory, to hand a message on as a sequence.</summary>
    public ReadOnlyMemory<byte> PayloadMemory => _messageDelivered
        ? _message.AsMemory(0, _messageLength)
        : _control.AsMemory(0, _controlLength);

    /// <summary>Bytes of message buffer held right now (0 while idle); for tests of what a peer can make the server hold.</summary>
    internal int BufferCapacity => _message?.Length ?? 0;

    /// <summary>After a Close frame: the peer's status code, or 1005 when its close frame had no body.</summary>
    public ushort CloseCode { get; private set; }

    /// <summary>
    /// Reads frames from <paramref name="buffer"/>, advancing it past what was consumed, until a whole
    /// message (<see cref="Opcode.Text"/>, <see cref="Opcode.Binary"/>) or a control frame is ready.
    /// <c>false</c> = need more bytes; the bytes left in <paramref name="buffer"/> must be offered again.
    /// </summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out Opcode opcode)
    {
        ReleaseDelivered();
        opcode = default;
        while (true)
        {
            if (!_inFrame)
            {
                if (!TryReadFrameHeader(buffer, out var header))
                {
                    return false;
                }

                if (header.IsControl)
                {
                    // A control frame is at most 14 + 125 bytes: wait for all of it, then take it whole.
                    if (buffer.Length < header.HeaderLength + header.PayloadLength)
                    {
                        return false;
                    }

                    ReadControlFrame(ref buffer, header);
                    opcode = header.Opcode;
                    return true;
                }

                StartDataFrame(header);
                buffer = buffer.Slice(header.HeaderLength);
            }

            if (!CopyPayload(ref buffer))
            {
                return false;
            }

            if (_frame.Fin)
            {
                opcode = CompleteMessage();
                return true;
            }
        }
    }

    public void Dispose()
    {
        ReturnMessageBuffer();
        ReturnControlBuffer();
    }
}
