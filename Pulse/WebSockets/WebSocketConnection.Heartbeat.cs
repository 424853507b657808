using Microsoft.AspNetCore.Connections;
using Pulse.Diagnostics;

namespace Pulse.WebSockets;

internal sealed partial class WebSocketConnection
{
    /// <summary>
    /// Called by <see cref="WebSocketHeartbeat"/> about once a second: enforces the heartbeat, close and
    /// write timeouts without a timer per socket.
    /// </summary>
    internal void OnHeartbeat()
    {
        long flushStartedAt = Volatile.Read(ref _flushStartedAt);
        if (flushStartedAt != 0 && _time.GetElapsedTime(flushStartedAt).TotalSeconds >= _options.WriteTimeoutSeconds)
        {
            // The peer has not read for WriteTimeoutSeconds: a Close frame would queue behind the blocked
            // bytes and never arrive, so the TCP connection is aborted (the peer sees 1006).
            WebSocketsLog.WriteTimeout(_logger, ConnectionId, _options.WriteTimeoutSeconds);
            _context.Abort(new ConnectionAbortedException("write timeout"));
            return;
        }

        long closeQueuedAt;
        bool closeQueued;
        lock (_sync)
        {
            closeQueued = _closeQueued;
            closeQueuedAt = _closeQueuedAt;
        }

        if (closeQueued)
        {
            if (_time.GetElapsedTime(closeQueuedAt).TotalSeconds >= _options.CloseTimeoutSeconds)
            {
                WebSocketsLog.CloseTimeout(_logger, ConnectionId, _options.CloseTimeoutSeconds);
                _context.Abort(new ConnectionAbortedException("close timeout"));
            }

            return;
        }

        if (_time.GetElapsedTime(Volatile.Read(ref _lastReceived)).TotalSeconds >= _options.HeartbeatTimeoutSeconds)
        {
            // 1000: the session ended by policy, not an error of the peer; phoenix.js reconnects after it.
            WebSocketsLog.HeartbeatTimeout(_logger, ConnectionId, _options.HeartbeatTimeoutSeconds);
            Close(WebSocketCloseCode.NormalClosure, "heartbeat timeout");
        }
    }
}
