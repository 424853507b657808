using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// A subscriber on a dying phone connection: a raw socket with a 4 KB receive buffer that upgrades,
/// joins one topic, reads the join reply, and then never reads again.
/// </summary>
/// <remarks>
/// Loopback is no phone network: its 64 KB segments make Linux size the server's send buffer at
/// about 4 MB (2 × 10 initial segments × per-segment memory, clamped by <c>tcp_wmem</c>), so a
/// non-reading peer would swallow 400 frames of 10 KB before the server noticed. Set before
/// connecting, a 4 KB receive buffer keeps the window small and an Ethernet-sized MSS (1,400
/// bytes, <c>TCP_MAXSEG</c>) makes the server's kernel size its send buffer as on the internet
/// (tens of KB), so the server's writes block after a few frames, as they would for a real phone.
/// </remarks>
internal sealed class NonReadingPeer : IDisposable
{
    private const int IpProtoTcp = 6;
    private const int TcpMaxSeg = 2; // linux/tcp.h
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };

    public static async Task<NonReadingPeer> JoinAsync(Uri baseAddress, string topic)
    {
        var peer = new NonReadingPeer();
        peer._socket.SetRawSocketOption(IpProtoTcp, TcpMaxSeg, BitConverter.GetBytes(1400));
        await peer._socket.ConnectAsync(IPAddress.Loopback, baseAddress.Port);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await peer.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = await peer.ReadHeadAsync();
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        await peer.SendAsync(MaskedText($"[\"1\",\"1\",\"{topic}\",\"phx_join\",{{}}]"));
        var reply = Encoding.UTF8.GetString(await peer.ReadFramePayloadAsync());
        Assert.Contains("\"status\":\"ok\"", reply, StringComparison.Ordinal);
        return peer;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>
    /// Starts reading at last: discards everything until the server ends the connection (EOF or reset);
    /// false when it is still open after <paramref name="wait"/>.
    /// </summary>
    public async Task<bool> DrainUntilClosedAsync(TimeSpan wait)
    {
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

    private async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes);

    private async Task<string> ReadHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (head.Length < 4096 && !head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    private async Task<byte[]> ReadFramePayloadAsync()
    {
        var header = new byte[2];
        await ReadExactlyAsync(header);
        long length = header[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await ReadExactlyAsync(extended);
            length = extended.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : (long)BinaryPrimitives.ReadUInt64BigEndian(extended);
        }

        var payload = new byte[length];
        await ReadExactlyAsync(payload);
        return payload;
    }

    private async Task ReadExactlyAsync(byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new IOException("the server closed the connection");
            }

            read += n;
        }
    }

    // A client frame must be masked (RFC 6455 §5.3); payloads here are under 126 bytes.
    private static byte[] MaskedText(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (int i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        return frame;
    }
}
