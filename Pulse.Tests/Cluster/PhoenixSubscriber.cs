using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Pulse.Tests.Cluster;

/// <summary>
/// A browser stand-in: one <see cref="ClientWebSocket"/> speaking Phoenix V2, joined to one event,
/// recording every total it sees (join reply snapshot and broadcasts) with the time it arrived, and the
/// close code and time when the server closes.
/// </summary>
internal sealed class PhoenixSubscriber : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<(long At, string Event, long Total)> _seen = [];
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private Task? _receive;

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    /// <summary><see cref="Stopwatch"/> timestamp of the server's Close frame.</summary>
    public long ClosedAt { get; private set; }

    public static async Task<PhoenixSubscriber> ConnectAsync(Uri uri)
    {
        var subscriber = new PhoenixSubscriber();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await subscriber._socket.ConnectAsync(uri, timeout.Token);
        subscriber._receive = subscriber.ReceiveLoopAsync();
        return subscriber;
    }

    public static async Task<PhoenixSubscriber> JoinAsync(Uri uri, Guid eventId)
    {
        var subscriber = await ConnectAsync(uri);
        await subscriber.SendAsync($"[\"1\",\"1\",\"event:{eventId:D}\",\"phx_join\",{{}}]");
        await subscriber.WaitForAsync(_ => true, TimeSpan.FromSeconds(10), "the join reply");
        return subscriber;
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>The latest total seen, or -1.</summary>
    public long LatestTotal
    {
        get
        {
            lock (_seen)
            {
                return _seen.Count == 0 ? -1 : _seen[^1].Total;
            }
        }
    }

    /// <summary>The event name of the latest message with a total (<c>phx_reply</c> for the join), or null.</summary>
    public string? LatestEvent
    {
        get
        {
            lock (_seen)
            {
                return _seen.Count == 0 ? null : _seen[^1].Event;
            }
        }
    }

    /// <summary>Waits until a total matching <paramref name="match"/> arrives; returns its arrival timestamp.</summary>
    public async Task<long> WaitForAsync(Func<long, bool> match, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (_seen)
            {
                foreach (var seen in _seen)
                {
                    if (match(seen.Total))
                    {
                        return seen.At;
                    }
                }
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds} s; totals seen: [{string.Join(", ", Totals())}], socket {_socket.State}");
            }

            await _changed.WaitAsync(left);
        }
    }

    public Task<long> WaitForTotalAsync(long total, TimeSpan timeout) => WaitForAsync(t => t == total, timeout, $"total {total}");

    /// <summary>Forgets what was seen, so the next wait only sees new messages.</summary>
    public void Clear()
    {
        lock (_seen)
        {
            _seen.Clear();
        }
    }

    public List<long> Totals()
    {
        lock (_seen)
        {
            return [.. _seen.Select(s => s.Total)];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server is gone; nothing to close.
            }
        }

        _socket.Abort();
        if (_receive is not null)
        {
            await _receive;
        }

        _socket.Dispose();
        _changed.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ClosedAt = Stopwatch.GetTimestamp();
                    CloseStatus = _socket.CloseStatus;
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
                    return;
                }

                Record(buffer.AsSpan(0, length));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Aborted by DisposeAsync or by the server.
        }
        finally
        {
            _changed.Release();
        }
    }

    private void Record(ReadOnlySpan<byte> message)
    {
        using var json = JsonDocument.Parse(message.ToArray());
        var root = json.RootElement;
        string name = root[3].GetString()!;
        var payload = root[4];
        JsonElement model = name == "phx_reply" && payload.TryGetProperty("response", out var response) && response.TryGetProperty("snapshot", out var snapshot)
            ? snapshot
            : payload;
        if (model.ValueKind != JsonValueKind.Object || !model.TryGetProperty("total", out var total))
        {
            return;
        }

        lock (_seen)
        {
            _seen.Add((Stopwatch.GetTimestamp(), name, total.GetInt64()));
        }

        _changed.Release();
    }
}
