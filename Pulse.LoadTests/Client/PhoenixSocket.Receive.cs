using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;

namespace Pulse.LoadTests.Client;

internal sealed partial class PhoenixSocket
{
    /// <summary>Pooled read size; a two-hour, three-sided view model is about 15 KiB (DESIGN §5).</summary>
    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>Bounds what a broken server can make us buffer for one frame.</summary>
    private const int MaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Why the socket stopped receiving; null while it runs or after a clean close.</summary>
    public string? Failure { get; private set; }

    private async Task ReceiveLoopAsync(byte[] leftover)
    {
        byte[]? buffer = null;
        int filled = 0;
        try
        {
            if (leftover.Length > 0)
            {
                buffer = ArrayPool<byte>.Shared.Rent(Math.Max(ReadBufferBytes, leftover.Length));
                leftover.CopyTo(buffer, 0);
                filled = leftover.Length;
                filled = await ProcessAsync(buffer, filled);
            }

            while (!IsClosed)
            {
                if (filled == 0)
                {
                    // Idle: hold no buffer. A zero-byte receive completes when data arrives.
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }

                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
                }

                int read = await _socket.ReceiveAsync(buffer!.AsMemory(filled), SocketFlags.None);
                if (read == 0)
                {
                    break; // peer closed the TCP connection
                }

                filled = await ProcessAsync(buffer!, filled + read);
                if (filled == buffer!.Length)
                {
                    buffer = Grow(buffer, filled);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
        {
            if (!IsClosed)
            {
                Failure = ex.Message;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Dispose();
        }
    }

    /// <summary>Handles every complete frame in <paramref name="buffer"/>; returns the bytes kept (moved to the front).</summary>
    private async ValueTask<int> ProcessAsync(byte[] buffer, int filled)
    {
        long receivedAt = Stopwatch.GetTimestamp();
        int offset = 0;
        while (WebSocketFrames.TryReadHeader(buffer.AsSpan(offset, filled - offset), out byte opcode, out int headerLength, out long payloadLength))
        {
            if (payloadLength > MaxFrameBytes)
            {
                throw new InvalidDataException("frame over 16 MiB");
            }

            int frameLength = headerLength + (int)payloadLength;
            if (filled - offset < frameLength)
            {
                break;
            }

            var payload = new ReadOnlyMemory<byte>(buffer, offset + headerLength, (int)payloadLength);
            offset += frameLength;
            switch (opcode)
            {
                case WebSocketFrames.OpcodeText or WebSocketFrames.OpcodeContinuation:
                    if (PhoenixMessage.TryParse(payload.Span, out PhoenixMessage message))
                    {
                        _handler(this, message, receivedAt);
                    }

                    break;
                case WebSocketFrames.OpcodePing:
                    await SendControlAsync(WebSocketFrames.OpcodePong, payload);
                    break;
                case WebSocketFrames.OpcodeClose:
                    await SendControlAsync(WebSocketFrames.OpcodeClose, payload.Length >= 2 ? payload[..2] : ReadOnlyMemory<byte>.Empty);
                    Dispose();
                    return 0;
                default:
                    break; // pong and binary: nothing to do
            }
        }

        int kept = filled - offset;
        if (kept > 0 && offset > 0)
        {
            Buffer.BlockCopy(buffer, offset, buffer, 0, kept);
        }

        return kept;
    }

    private async ValueTask SendControlAsync(byte opcode, ReadOnlyMemory<byte> payload)
    {
        // §5.5: control payloads are at most 125 bytes, so this frame is at most 131.
        byte[] frame = new byte[WebSocketFrames.MaxClientHeaderLength + payload.Length];
        int length = WebSocketFrames.WriteMasked(frame, opcode, payload.Span);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await SendRawAsync(frame.AsMemory(0, length), timeout.Token);
    }

    private static byte[] Grow(byte[] buffer, int filled)
    {
        if (buffer.Length >= MaxFrameBytes)
        {
            throw new InvalidDataException("frame over 16 MiB");
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        Buffer.BlockCopy(buffer, 0, larger, 0, filled);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
