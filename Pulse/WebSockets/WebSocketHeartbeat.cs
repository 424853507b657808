using System.Collections.Concurrent;
using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>
/// One timer for all sockets (as Kestrel's Heartbeat): once a second it lets every connection check its
/// timeouts. The timer exists only while there are connections.
/// </summary>
internal sealed class WebSocketHeartbeat(TimeProvider time, ILogger logger) : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<WebSocketConnection, byte> _connections = new();
    private readonly Lock _timerSync = new();
    private ITimer? _timer;
    private long _lastTick;

    /// <summary>The open connections now (a copy), e.g. for the shutdown drain.</summary>
    public List<WebSocketConnection> Snapshot() => [.. _connections.Keys];

    public void Register(WebSocketConnection connection)
    {
        _connections.TryAdd(connection, 0);
        lock (_timerSync)
        {
            if (_timer is null)
            {
                _lastTick = time.GetTimestamp();
                _timer = time.CreateTimer(static state => ((WebSocketHeartbeat)state!).OnHeartbeat(), this, Interval, Interval);
            }
        }
    }

    public void Unregister(WebSocketConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>One scan over all connections; called by the timer, callable by tests.</summary>
    public void OnHeartbeat()
    {
        // A tick far later than its interval means the thread pool is starved; say so once per late tick.
        var sinceLast = time.GetElapsedTime(Interlocked.Exchange(ref _lastTick, time.GetTimestamp()));
        if (sinceLast > Interval * 2)
        {
            WebSocketsLog.HeartbeatLate(logger, (sinceLast - Interval).TotalMilliseconds);
        }

        // Enumerating the dictionary itself takes no snapshot (Keys would copy 19,000 references a second).
        foreach (var pair in _connections)
        {
            pair.Key.OnHeartbeat();
        }

        lock (_timerSync)
        {
            if (_connections.IsEmpty)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    public void Dispose()
    {
        lock (_timerSync)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}
