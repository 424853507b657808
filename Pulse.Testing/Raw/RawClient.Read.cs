using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Pulse.Testing.Frames;

namespace Pulse.Testing.Raw;

internal sealed partial class RawClient
{
    /// <summary>A response head is a few hundred bytes; 64 KiB bounds a hostile or broken one.</summary>
    private const int MaxHeadBytes = 64 * 1024;

    // Explicit reads: bytes received and not yet handed out live in _buffer[_start.._end]. Rented on
    // the first read, given back when the receive loop takes over (with what is left) or on Dispose.
    private byte[]? _buffer;
    private int _start;
    private int _end;

    /// <summary>Reads an HTTP response head only (a response to HEAD has no body, whatever its Content-Length says).</summary>
    public async Task<string> ReadResponseHeadAsync(CancellationToken cancellationToken = default)
    {
        int end;
        while ((end = Buffered.IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_end - _start >= MaxHeadBytes)
            {
                throw new InvalidDataException("response head over 64 KiB");
            }

            await FillAsync(cancellationToken);
        }

        return Encoding.ASCII.GetString(Take(end + 4));
    }

    /// <summary>Reads an HTTP response head and its body (Content-Length or chunked, RFC 9112 §7.1).</summary>
    public async Task<string> ReadResponseAsync(CancellationToken cancellationToken = default)
    {
        var head = await ReadResponseHeadAsync(cancellationToken);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            return head + Encoding.UTF8.GetString(await ReadExactlyAsync(int.Parse(lengthLine.Split(':')[1].Trim(), CultureInfo.InvariantCulture), cancellationToken));
        }

        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            return head + await ReadChunkedBodyAsync(cancellationToken);
        }

        return head;
    }

    /// <summary>Reads one server frame (unmasked, §5.1): its first byte (FIN|RSV|opcode) and payload.</summary>
    public async Task<(byte B0, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        byte b0;
        int header;
        long length;
        while (!ServerFrames.TryReadHeader(Buffered, out b0, out header, out length))
        {
            await FillAsync(cancellationToken);
        }

        Take(header);
        return (b0, await ReadExactlyAsync(checked((int)length), cancellationToken));
    }

    /// <summary>Reads frames until a Close frame; returns its status code (0 when the body is empty).</summary>
    public async Task<int> ReadCloseCodeAsync()
    {
        while (true)
        {
            var (b0, payload) = await ReadFrameAsync();
            if ((b0 & 0x0F) == FrameOpcode.Close)
            {
                return ServerFrames.CloseCode(payload);
            }
        }
    }

    /// <summary>True when the server has closed the TCP connection (the next read returns 0); false when a byte came.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        if (_end > _start)
        {
            Take(1);
            return false;
        }

        using var timeout = new CancellationTokenSource(_options.ReadTimeout);
        var one = new byte[1];
        return await _socket.ReceiveAsync(one, SocketFlags.None, timeout.Token) == 0;
    }

    /// <summary>
    /// Starts reading at last: discards everything until the server ends the connection (EOF or reset);
    /// false when it is still open after <paramref name="wait"/>.
    /// </summary>
    public async Task<bool> DrainUntilClosedAsync(TimeSpan wait)
    {
        _start = _end;
        using var timeout = new CancellationTokenSource(wait);
        var buffer = new byte[16 * 1024];
        try
        {
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true; // reset by the server's abort
        }
    }

    private ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            if (_end == _start)
            {
                await FillAsync(cancellationToken);
            }

            int n = Math.Min(count - filled, _end - _start);
            Take(n).CopyTo(result.AsSpan(filled));
            filled += n;
        }

        return result;
    }

    private async Task<string> ReadChunkedBodyAsync(CancellationToken cancellationToken)
    {
        var body = new List<byte>();
        for (int chunks = 0; chunks < 64; chunks++)
        {
            int lineEnd;
            while ((lineEnd = Buffered.IndexOf("\r\n"u8)) < 0)
            {
                await FillAsync(cancellationToken);
            }

            int size = int.Parse(Encoding.ASCII.GetString(Take(lineEnd + 2)).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var chunk = await ReadExactlyAsync(size + 2, cancellationToken); // the data, then CRLF (after the last, empty chunk: the final CRLF)
            body.AddRange(chunk.AsSpan(0, size).ToArray());
            if (size == 0)
            {
                break;
            }
        }

        return Encoding.UTF8.GetString([.. body]);
    }

    // Hands out the next count buffered bytes (valid until the next fill).
    private ReadOnlySpan<byte> Take(int count)
    {
        var taken = _buffer.AsSpan(_start, count);
        _start += count;
        return taken;
    }

    // Receives more bytes after what is buffered; EndOfStreamException when the server closed.
    private async Task FillAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(16 * 1024);
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, larger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ReadTimeout);
        int read;
        try
        {
            read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing from the server within {_options.ReadTimeout.TotalSeconds} s");
        }

        if (read == 0)
        {
            throw new EndOfStreamException("the server closed the connection");
        }

        _end += read;
    }

    private void ReturnReadBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _start = _end = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
