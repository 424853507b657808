using System.Net;
using System.Net.Sockets;

namespace Pulse.Tests.Nginx;

/// <summary>
/// A transparent TCP relay in front of one node, between nginx and Pulse, that notes for every upstream
/// connection where its WebSocket upgrade head came: first on the connection, or after plain requests (what
/// nginx does with the idle connections of a keep-alive upstream). The only way to know which path the server
/// took without asking the server.
/// </summary>
internal sealed class TcpTap : IAsyncDisposable
{
    private static readonly byte[] UpgradeStart = Encoding.ASCII.GetBytes("GET /socket/websocket");
    private static readonly byte[] RequestLineEnd = Encoding.ASCII.GetBytes(" HTTP/1.1\r\n");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<Relay> _relays = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public TcpTap(int target)
    {
        _target = target;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Per connection that carried an upgrade head: how many plain requests came before it.</summary>
    public List<int> RequestsBeforeUpgrade()
    {
        lock (_relays)
        {
            return [.. _relays.Where(r => r.RequestsBeforeUpgrade >= 0).Select(r => r.RequestsBeforeUpgrade)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        Relay[] relays;
        lock (_relays)
        {
            relays = [.. _relays];
        }

        foreach (var relay in relays)
        {
            relay.Dispose();
        }

        await Task.WhenAll(relays.Select(r => r.Done));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var downstream = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient { NoDelay = true };
                downstream.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var relay = new Relay(downstream, upstream);
                lock (_relays)
                {
                    _relays.Add(relay);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private sealed class Relay : IDisposable
    {
        private readonly TcpClient _downstream;
        private readonly TcpClient _upstream;
        private readonly List<byte> _head = [];

        public Relay(TcpClient downstream, TcpClient upstream)
        {
            _downstream = downstream;
            _upstream = upstream;
            Done = RunAsync();
        }

        /// <summary>-1 until an upgrade head is seen; then the request lines before it.</summary>
        public int RequestsBeforeUpgrade { get; private set; } = -1;

        public Task Done { get; }

        public void Dispose()
        {
            _downstream.Dispose();
            _upstream.Dispose();
        }

        private async Task RunAsync()
        {
            var up = PumpAsync(_downstream.GetStream(), _upstream.GetStream(), observe: true);
            var down = PumpAsync(_upstream.GetStream(), _downstream.GetStream(), observe: false);
            await Task.WhenAny(up, down);
            Dispose();
            await Task.WhenAll(up, down);
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to, bool observe)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer)) > 0)
                {
                    if (observe)
                    {
                        Observe(buffer.AsSpan(0, read));
                    }

                    await to.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                // One side closed: the relay ends.
            }
        }

        /// <summary>Keeps the bytes until the upgrade head shows (WebSocket frames after it are masked, never plain text).</summary>
        private void Observe(ReadOnlySpan<byte> bytes)
        {
            if (RequestsBeforeUpgrade >= 0 || _head.Count > 1 << 20)
            {
                return;
            }

            _head.AddRange(bytes);
            var seen = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_head);
            int upgrade = seen.IndexOf(UpgradeStart);
            if (upgrade >= 0)
            {
                RequestsBeforeUpgrade = Count(seen[..upgrade], RequestLineEnd);
                _head.Clear();
            }
        }

        private static int Count(ReadOnlySpan<byte> text, ReadOnlySpan<byte> what)
        {
            int count = 0;
            for (int at = text.IndexOf(what); at >= 0; at = text.IndexOf(what))
            {
                count++;
                text = text[(at + what.Length)..];
            }

            return count;
        }
    }
}
