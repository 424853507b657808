using System.Buffers;
using System.Buffers.Binary;

namespace Pulse.WebSockets;

internal sealed partial class FrameReader
{
    private void StartDataFrame(in FrameHeader header)
    {
        if (header.Opcode == Opcode.Continuation)
        {
            // §5.4: a continuation frame only follows an unfinished Text or Binary frame.
            if (_messageOpcode == NoMessage)
            {
                throw new WebSocketProtocolException("continuation frame without a message");
            }
        }
        else
        {
            // §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another".
            if (_messageOpcode != NoMessage)
            {
                throw new WebSocketProtocolException("new message inside a fragmented message");
            }
        }

        // The limit is checked on the declared length, before a byte of payload is buffered: a peer that
        // declares 2^62 bytes is refused here, not after we have tried to make room for them.
        if (header.PayloadLength > maxMessageBytes - (header.Opcode == Opcode.Continuation ? _messageLength : 0))
        {
            throw new WebSocketProtocolException(WebSocketCloseCode.MessageTooBig, "message too big");
        }

        if (header.Opcode != Opcode.Continuation)
        {
            _messageOpcode = header.Opcode;
            _messageLength = 0;
            _utf8Validated = 0;
        }

        // No buffer is taken here: it grows with the bytes that arrive (CopyPayload), never with the
        // declared length, so a peer that declares 65,000 bytes and sends one costs one byte of buffer.
        _frame = header;
        _frameRemaining = header.PayloadLength;
        _maskOffset = 0;
        _inFrame = true;
    }

    /// <summary>Copies and unmasks what is available of the current frame; <c>true</c> once the frame is complete.</summary>
    private bool CopyPayload(ref ReadOnlySequence<byte> buffer)
    {
        int take = (int)Math.Min(_frameRemaining, buffer.Length);
        if (take > 0)
        {
            EnsureMessageCapacity(_messageLength + take, _messageLength + (int)_frameRemaining);
            var destination = _message.AsSpan(_messageLength, take);
            buffer.Slice(0, take).CopyTo(destination);
            _maskOffset = Masking.Apply(destination, _frame.MaskKey, _maskOffset);
            buffer = buffer.Slice(take);
            _messageLength += take;
            _frameRemaining -= take;
            if (_messageOpcode == Opcode.Text)
            {
                // Validate as bytes arrive, so invalid text fails fast even across fragments (Autobahn 6.4).
                _utf8Validated += Utf8Validation.ValidatePrefix(_message.AsSpan(_utf8Validated, _messageLength - _utf8Validated));
            }
        }

        if (_frameRemaining > 0)
        {
            return false;
        }

        _inFrame = false;
        return true;
    }

    private Opcode CompleteMessage()
    {
        var opcode = _messageOpcode;
        if (opcode == Opcode.Text && _utf8Validated != _messageLength)
        {
            throw new WebSocketProtocolException(WebSocketCloseCode.InvalidPayloadData, "text message ends inside a code point");
        }

        _messageDelivered = true;
        return opcode;
    }

    private void ReadControlFrame(ref ReadOnlySequence<byte> buffer, in FrameHeader header)
    {
        int length = (int)header.PayloadLength;
        buffer = buffer.Slice(header.HeaderLength);
        if (length > 0)
        {
            _control = ArrayPool<byte>.Shared.Rent(length);
            var payload = _control.AsSpan(0, length);
            buffer.Slice(0, length).CopyTo(payload);
            Masking.Apply(payload, header.MaskKey, 0);
            buffer = buffer.Slice(length);
        }

        _controlLength = length;
        if (header.Opcode == Opcode.Close)
        {
            CloseCode = ParseClosePayload(Payload);
        }
    }

    /// <summary>§5.5.1: an optional 2-byte code, then an optional UTF-8 reason.</summary>
    private static ushort ParseClosePayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0)
        {
            return WebSocketCloseCode.NoStatusReceived;
        }

        if (payload.Length == 1)
        {
            throw new WebSocketProtocolException("close payload of one byte");
        }

        ushort code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!WebSocketCloseCode.IsValidOnWire(code))
        {
            throw new WebSocketProtocolException("invalid close code");
        }

        Utf8Validation.ValidateComplete(payload[2..]);
        return code;
    }

    /// <summary>
    /// Makes room for <paramref name="needed"/> bytes of message, growing geometrically towards
    /// <paramref name="frameEnd"/> (where the current frame's declared payload ends, never past
    /// maxMessageBytes: checked on the header).
    /// </summary>
    /// <remarks>
    /// Hostile lengths (issue 10): a header is free to declare 65,000 bytes and then send one; a buffer rented
    /// for the declaration would cost 64 KiB a socket for nothing. Sized by what has arrived instead, the
    /// buffer is at most twice the bytes received (doubling, and ArrayPool's power-of-two buckets, 16 bytes
    /// at least), while a message that arrives whole (the usual case) still takes one rent and one copy,
    /// and one that trickles in is copied O(n) times in total (each doubling copies what came before).
    /// </remarks>
    private void EnsureMessageCapacity(int needed, int frameEnd)
    {
        int current = _message?.Length ?? 0;
        if (needed <= current)
        {
            return;
        }

        int capacity = Math.Max(needed, (int)Math.Min((long)current * 2, frameEnd));
        var larger = ArrayPool<byte>.Shared.Rent(capacity);
        if (_message is not null)
        {
            _message.AsSpan(0, _messageLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_message);
        }

        _message = larger;
    }

    /// <summary>Returns the buffers of what the last <see cref="TryRead"/> delivered; the next call does it too.</summary>
    public void ReleaseDelivered()
    {
        ReturnControlBuffer();
        if (_messageDelivered)
        {
            _messageDelivered = false;
            _messageOpcode = NoMessage;
            _messageLength = 0;
            _utf8Validated = 0;
            ReturnMessageBuffer();
        }
    }

    private void ReturnMessageBuffer()
    {
        if (_message is not null)
        {
            ArrayPool<byte>.Shared.Return(_message);
            _message = null;
        }
    }

    private void ReturnControlBuffer()
    {
        if (_control is not null)
        {
            ArrayPool<byte>.Shared.Return(_control);
            _control = null;
        }

        _controlLength = 0;
    }
}
