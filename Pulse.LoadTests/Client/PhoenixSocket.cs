using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pulse.LoadTests.Client;

/// <summary>Receives each complete text message; the message is only valid during the call.</summary>
internal delegate void PhoenixMessageHandler(PhoenixSocket socket, PhoenixMessage message, long receivedAt);

/// <summary>
/// A Phoenix V2 client over a raw <see cref="Socket"/>: hand-written RFC 6455 client handshake,
/// masked text frames, ping/pong and close. Made to be held by the thousand: an idle socket
/// owns no receive buffer (it waits with a zero-byte receive and rents a buffer from the
/// shared pool only while bytes are in hand), so the tool measures the server, not itself.
/// </summary>
/// <remarks>
/// Thread safety: sends are serialized by a per-socket gate (join, heartbeat and pong may race);
/// the receive loop is the only reader.
/// </remarks>
internal sealed partial class PhoenixSocket : IDisposable
{
    /// <summary>Linux IP_BIND_ADDRESS_NO_PORT (24 in linux/in.h): pick the ephemeral port at connect, per destination.</summary>
    private const int IpBindAddressNoPort = 24;
    private const int SolIp = 0;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly PhoenixMessageHandler _handler;
    private int _closed;

    private PhoenixSocket(Socket socket, PhoenixMessageHandler handler)
    {
        _socket = socket;
        _handler = handler;
    }

    /// <summary>Set by the owner: which subscriber slot this socket is.</summary>
    public int Index { get; init; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Connects from <paramref name="source"/>, upgrades, and starts the receive loop.</summary>
    public static async Task<PhoenixSocket> ConnectAsync(
        IPEndPoint server, IPAddress source, string hostHeader, int index,
        PhoenixMessageHandler handler, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
            }

            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(server, cancellationToken);
            byte[] leftover = await HandshakeAsync(socket, hostHeader, cancellationToken);
            var client = new PhoenixSocket(socket, handler) { Index = index };
            _ = client.ReceiveLoopAsync(leftover);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one text message (a Phoenix frame under 64 KiB).</summary>
    public async Task SendTextAsync(string text, CancellationToken cancellationToken)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        byte[] payload = ArrayPool<byte>.Shared.Rent(byteCount);
        byte[] frame = ArrayPool<byte>.Shared.Rent(byteCount + WebSocketFrames.MaxClientHeaderLength);
        try
        {
            int written = Encoding.UTF8.GetBytes(text, payload);
            int length = WebSocketFrames.WriteMasked(frame, WebSocketFrames.OpcodeText, payload.AsSpan(0, written));
            await SendRawAsync(frame.AsMemory(0, length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task SendRawAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            while (!frame.IsEmpty)
            {
                int sent = await _socket.SendAsync(frame, SocketFlags.None, cancellationToken);
                frame = frame[sent..];
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>Sends a close frame (1000) if still open, then closes the socket.</summary>
    public async Task CloseAsync()
    {
        if (IsClosed)
        {
            return;
        }

        try
        {
            byte[] frame = new byte[WebSocketFrames.MaxClientHeaderLength + 2];
            int length = WebSocketFrames.WriteMasked(frame, WebSocketFrames.OpcodeClose, [0x03, 0xE8]); // 1000, normal closure
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await SendRawAsync(frame.AsMemory(0, length), timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway; the server may have gone first.
        }

        Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _socket.Dispose();
            _sendGate.Dispose();
        }
    }
}
