using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pulse.Testing.Frames;

namespace Pulse.Testing.Raw;

/// <summary>
/// A WebSocket client on a bare <see cref="Socket"/> that sends exactly the bytes it is given: the
/// hostile peer of the functional tests (unmasked frames from <see cref="ClientFrames"/>, a declared
/// length then silence, a peer that never reads, a small receive window) and, with
/// <see cref="StartReceiving"/>, the load tool's cheap Phoenix V2 socket, held by the thousand.
/// </summary>
/// <remarks>
/// Two ways to read, one at a time: explicit reads (<c>Read…Async</c>, <see cref="DrainUntilClosedAsync"/>)
/// for tests that play the peer step by step; or the receive loop, which owns no buffer while idle
/// (it waits with a zero-byte receive and rents from the shared pool only while bytes are in hand), so
/// the load tool measures the server, not itself. Sends are serialized by a per-socket gate (join,
/// heartbeat and pong may race).
/// </remarks>
internal sealed partial class RawClient : IDisposable
{
    /// <summary>Linux IP_BIND_ADDRESS_NO_PORT (24 in linux/in.h): pick the ephemeral port at connect, per destination.</summary>
    private const int IpBindAddressNoPort = 24;
    private const int SolIp = 0;
    private const int IpProtoTcp = 6;
    private const int TcpMaxSeg = 2; // linux/tcp.h

    private readonly Socket _socket;
    private readonly RawClientOptions _options;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private int _closed;

    private RawClient(Socket socket, RawClientOptions options)
    {
        _socket = socket;
        _options = options;
    }

    /// <summary>Set by the owner: which subscriber slot this socket is.</summary>
    public int Index { get; init; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public static Task<RawClient> ConnectAsync(int port, bool smallWindow = false) =>
        ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), new RawClientOptions { SmallReceiveWindow = smallWindow });

    public static async Task<RawClient> ConnectAsync(IPEndPoint server, RawClientOptions? options = null, int index = 0, CancellationToken cancellationToken = default)
    {
        options ??= new RawClientOptions();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (options.SmallReceiveWindow)
            {
                socket.ReceiveBufferSize = 4096;
                socket.SetRawSocketOption(IpProtoTcp, TcpMaxSeg, BitConverter.GetBytes(1400));
            }

            if (options.Source is { } source)
            {
                if (OperatingSystem.IsLinux())
                {
                    socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(server, cancellationToken);
            return new RawClient(socket, options) { Index = index };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    public Task SendAsync(byte[] bytes) => SendAsync(bytes.AsMemory());

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            while (!bytes.IsEmpty)
            {
                int sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
                bytes = bytes[sent..];
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>Sends one masked text frame (the load tool's join and heartbeat), from pooled buffers.</summary>
    public async Task SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        int byteCount = Encoding.UTF8.GetByteCount(text);
        byte[] payload = ArrayPool<byte>.Shared.Rent(byteCount);
        byte[] frame = ArrayPool<byte>.Shared.Rent(byteCount + ClientFrames.MaxHeaderLength);
        try
        {
            int written = Encoding.UTF8.GetBytes(text, payload);
            int length = WriteMasked(frame, FrameOpcode.Text, payload.AsSpan(0, written));
            await SendAsync(frame.AsMemory(0, length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Sends a Close frame (1000) if still open, then closes the socket.</summary>
    public async Task CloseAsync()
    {
        if (IsClosed)
        {
            return;
        }

        try
        {
            await SendControlAsync(FrameOpcode.Close, new byte[] { 0x03, 0xE8 }); // 1000, normal closure
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
            ReturnReadBuffer();
        }
    }

    private async ValueTask SendControlAsync(byte opcode, ReadOnlyMemory<byte> payload)
    {
        // §5.5: control payloads are at most 125 bytes, so this frame is at most 131.
        byte[] frame = new byte[ClientFrames.GetLength(payload.Length)];
        WriteMasked(frame, opcode, payload.Span);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await SendAsync(frame, timeout.Token);
    }

    // §5.3: the masking key must be unpredictable to defeat proxy cache poisoning, which matters for
    // browsers, not for test and load peers on loopback; Random.Shared is enough here.
    private static int WriteMasked(Span<byte> frame, byte opcode, ReadOnlySpan<byte> payload)
    {
        Span<byte> mask = stackalloc byte[4];
        Random.Shared.NextBytes(mask);
        return ClientFrames.Write(frame, opcode, payload, mask);
    }
}
