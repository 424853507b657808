using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Pulse.Testing.Frames;
using Pulse.Testing.Phoenix;

namespace Pulse.Testing.Raw;

/// <summary>Receives each complete V2 text message; the message is only valid during the call.</summary>
internal delegate void RawMessageHandler(RawClient socket, PhoenixV2Fields message, long receivedAt);

internal sealed partial class RawClient
{
    /// <summary>Pooled read size; a two-hour, three-sided view model is about 15 KiB (docs/design.md §5).</summary>
    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>Bounds what a broken server can make us buffer for one frame.</summary>
    private const int MaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Why the receive loop stopped; null while it runs or after a clean close.</summary>
    public string? Failure { get; private set; }

    /// <summary>
    /// Hands the socket to the receive loop (after <see cref="UpgradeAsync"/>): every V2 text message goes
    /// to <paramref name="handler"/>, pings are answered, a Close is answered and ends the socket. Explicit
    /// reads must not be used afterwards.
    /// </summary>
    public void StartReceiving(RawMessageHandler handler)
    {
        byte[] leftover = Buffered.ToArray();
        ReturnReadBuffer();
        _ = ReceiveLoopAsync(leftover, handler);
    }

    private async Task ReceiveLoopAsync(byte[] leftover, RawMessageHandler handler)
    {
        byte[]? buffer = null;
        int filled = 0;
        try
        {
            if (leftover.Length > 0)
            {
                buffer = ArrayPool<byte>.Shared.Rent(Math.Max(ReadBufferBytes, leftover.Length));
                leftover.CopyTo(buffer, 0);
                filled = await ProcessAsync(buffer, leftover.Length, handler);
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
                    break; // the server closed the TCP connection
                }

                filled = await ProcessAsync(buffer!, filled + read, handler);
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
    private async ValueTask<int> ProcessAsync(byte[] buffer, int filled, RawMessageHandler handler)
    {
        long receivedAt = Stopwatch.GetTimestamp();
        int offset = 0;
        while (ServerFrames.TryReadHeader(buffer.AsSpan(offset, filled - offset), out byte b0, out int headerLength, out long payloadLength))
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
            // Phoenix servers never fragment: a continuation is handled as its own message.
            switch (b0 & 0x0F)
            {
                case FrameOpcode.Text or FrameOpcode.Continuation:
                    if (PhoenixV2Codec.TryDecode(payload.Span, out PhoenixV2Fields message))
                    {
                        handler(this, message, receivedAt);
                    }

                    break;
                case FrameOpcode.Ping:
                    await SendControlAsync(FrameOpcode.Pong, payload);
                    break;
                case FrameOpcode.Close:
                    await SendControlAsync(FrameOpcode.Close, payload.Length >= 2 ? payload[..2] : ReadOnlyMemory<byte>.Empty);
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
