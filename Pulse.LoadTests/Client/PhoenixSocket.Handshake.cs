using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Pulse.LoadTests.Client;

internal sealed partial class PhoenixSocket
{
    /// <summary>RFC 6455 §1.3: the GUID the server appends to the key before hashing.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>A 101 response is a few hundred bytes; 8 KiB bounds a hostile or broken one.</summary>
    private const int MaxResponseHeaderBytes = 8192;

    /// <summary>Thrown when the server answers the upgrade with anything but 101.</summary>
    internal sealed class HandshakeException(string message) : Exception(message);

    /// <summary>
    /// <c>--upgrade-after-request</c>: a <c>GET /healthz</c> (answered and read) before each upgrade, on the same
    /// connection, as nginx's kept-alive upstream connections bring them. Set once at start-up.
    /// </summary>
    public static bool UpgradeAfterRequest { get; set; }

    private static async Task<byte[]> HandshakeAsync(Socket socket, string hostHeader, CancellationToken cancellationToken)
    {
        if (UpgradeAfterRequest)
        {
            await PlainRequestAsync(socket, hostHeader, cancellationToken);
        }

        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)); // §4.1: 16 random bytes, base64
        string request =
            "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\n" +
            "Host: " + hostHeader + "\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Key: " + key + "\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n";
        byte[] requestBytes = Encoding.ASCII.GetBytes(request);
        int offset = 0;
        while (offset < requestBytes.Length)
        {
            offset += await socket.SendAsync(requestBytes.AsMemory(offset), SocketFlags.None, cancellationToken);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxResponseHeaderBytes);
        try
        {
            int filled = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == MaxResponseHeaderBytes)
                {
                    throw new HandshakeException("upgrade response headers over 8 KiB");
                }

                int read = await socket.ReceiveAsync(buffer.AsMemory(filled, MaxResponseHeaderBytes - filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new HandshakeException("server closed during the upgrade");
                }

                filled += read;
            }

            string head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
            CheckResponse(head, key);
            return buffer.AsSpan(headerEnd + 4, filled - headerEnd - 4).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>GET /healthz, then reads its whole answer (head and Content-Length body) and nothing more.</summary>
    private static async Task PlainRequestAsync(Socket socket, string hostHeader, CancellationToken cancellationToken)
    {
        byte[] request = Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: " + hostHeader + "\r\n\r\n");
        for (int offset = 0; offset < request.Length;)
        {
            offset += await socket.SendAsync(request.AsMemory(offset), SocketFlags.None, cancellationToken);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxResponseHeaderBytes);
        try
        {
            int filled = 0;
            int headerEnd;
            long total = long.MaxValue;
            while (true)
            {
                headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (headerEnd >= 0 && total == long.MaxValue)
                {
                    string head = Encoding.ASCII.GetString(buffer, 0, headerEnd);
                    if (!head.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                    {
                        throw new HandshakeException("GET /healthz before the upgrade: " + head.Split("\r\n")[0]);
                    }

                    string? length = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                    total = headerEnd + 4 + (length is null ? 0 : long.Parse(length.AsSpan(15).Trim(), CultureInfo.InvariantCulture));
                }

                if (filled >= total)
                {
                    // The server answers nothing more before the upgrade request is sent: nothing was read past the answer.
                    return;
                }

                if (filled == MaxResponseHeaderBytes)
                {
                    throw new HandshakeException("GET /healthz answer over 8 KiB");
                }

                int read = await socket.ReceiveAsync(buffer.AsMemory(filled, (int)Math.Min(MaxResponseHeaderBytes, total) - filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new HandshakeException("server closed after GET /healthz");
                }

                filled += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CheckResponse(string head, string key)
    {
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || status[1] != "101")
        {
            throw new HandshakeException("upgrade refused: " + lines[0]);
        }

#pragma warning disable CA5350 // RFC 6455 §4.2.2 fixes SHA-1 for Sec-WebSocket-Accept; it is not used for security here.
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                if (line.AsSpan(colon + 1).Trim().SequenceEqual(expected))
                {
                    return;
                }

                throw new HandshakeException("wrong Sec-WebSocket-Accept");
            }
        }

        throw new HandshakeException("no Sec-WebSocket-Accept in the 101 response");
    }
}
