using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Pulse.Tests.WebSockets;

/// <summary>A hostile peer on a raw TCP socket: sends exactly the bytes a test gives it.</summary>
internal sealed class RawPeer : IDisposable
{
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3

    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    /// <summary>
    /// Connects. With <paramref name="smallWindow"/>, a 4 KB receive buffer and an Ethernet-sized MSS are set
    /// before connecting, so that the server's writes block after a few KB when the peer does not read (see
    /// <c>Pulse.Tests.Pipeline.NonReadingPeer</c> for why loopback needs both).
    /// </summary>
    public static async Task<RawPeer> ConnectAsync(int port, bool smallWindow = false)
    {
        var peer = new RawPeer();
        if (smallWindow)
        {
            peer._client.ReceiveBufferSize = 4096;
            peer._client.Client.SetRawSocketOption(6, 2, BitConverter.GetBytes(1400)); // IPPROTO_TCP, TCP_MAXSEG
        }

        await peer._client.ConnectAsync("127.0.0.1", port);
        peer._stream = peer._client.GetStream();
        peer._stream.ReadTimeout = 10_000;
        return peer;
    }

    public static string UpgradeRequest(string extraHeaders = "", string key = SampleKey, string version = "13", string path = "/socket/websocket?vsn=2.0.0") =>
        $"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        + (key.Length > 0 ? $"Sec-WebSocket-Key: {key}\r\n" : string.Empty)
        + $"Sec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads an HTTP response head only (a response to HEAD has no body, whatever its Content-Length says).</summary>
    public async Task<string> ReadResponseHeadAsync()
    {
        var bytes = new List<byte>();
        while (!(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            bytes.Add(await ReadByteAsync());
        }

        return Encoding.ASCII.GetString([.. bytes]);
    }

    /// <summary>Reads an HTTP response head and its body (Content-Length or chunked, RFC 9112 §7.1).</summary>
    public async Task<string> ReadResponseAsync()
    {
        var head = await ReadResponseHeadAsync();
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            var body = new byte[int.Parse(lengthLine.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)];
            await _stream.ReadExactlyAsync(body);
            head += Encoding.UTF8.GetString(body);
        }
        else if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            head += await ReadChunkedBodyAsync();
        }

        return head;
    }

    public async Task UpgradeAsync()
    {
        await SendAsync(UpgradeRequest());
        var response = await ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);
    }

    /// <summary>Reads one server frame (unmasked, FIN assumed): its opcode byte and payload.</summary>
    public async Task<(byte B0, byte[] Payload)> ReadFrameAsync()
    {
        byte b0 = await ReadByteAsync();
        byte b1 = await ReadByteAsync();
        Assert.Equal(0, b1 & 0x80); // servers never mask (§5.1)
        long length = b1 & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await _stream.ReadExactlyAsync(ext);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _stream.ReadExactlyAsync(ext);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }

        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload);
        return (b0, payload);
    }

    /// <summary>Reads frames until a Close frame; returns its status code (0 when the body is empty).</summary>
    public async Task<int> ReadCloseCodeAsync()
    {
        while (true)
        {
            var (b0, payload) = await ReadFrameAsync();
            if ((b0 & 0x0F) == 0x8)
            {
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0;
            }
        }
    }

    /// <summary>True when the server has closed the TCP connection (read returns 0).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        var one = new byte[1];
        return await _stream.ReadAsync(one) == 0;
    }

    /// <summary>
    /// Reads and discards until the server ends the connection (EOF or reset); false when it is still open
    /// after <paramref name="wait"/>.
    /// </summary>
    public async Task<bool> DrainUntilClosedAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        var buffer = new byte[16 * 1024];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true; // reset by the server's abort
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task<string> ReadChunkedBodyAsync()
    {
        var body = new List<byte>();
        for (int chunks = 0; chunks < 64; chunks++)
        {
            var sizeLine = new List<byte>();
            while (!(sizeLine.Count >= 2 && sizeLine[^2] == '\r' && sizeLine[^1] == '\n'))
            {
                sizeLine.Add(await ReadByteAsync());
            }

            int size = int.Parse(Encoding.ASCII.GetString([.. sizeLine]).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            var chunk = new byte[size + 2]; // the data, then CRLF (after the last, empty chunk: the final CRLF)
            await _stream.ReadExactlyAsync(chunk);
            body.AddRange(chunk.AsSpan(0, size).ToArray());
            if (size == 0)
            {
                break;
            }
        }

        return Encoding.UTF8.GetString([.. body]);
    }

    private async Task<byte> ReadByteAsync()
    {
        var one = new byte[1];
        int read = await _stream.ReadAsync(one);
        if (read == 0)
        {
            throw new EndOfStreamException();
        }

        return one[0];
    }
}
