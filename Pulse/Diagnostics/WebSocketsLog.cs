
namespace Pulse.Diagnostics;

/// <summary>Every log line of the transport; event ids 3000–3099.</summary>
internal static partial class WebSocketsLog
{
    [LoggerMessage(3000, LogLevel.Debug, "Connection {ConnectionId}: upgrade refused with {StatusCode}: {Reason}")]
    public static partial void HandshakeRejected(ILogger logger, string connectionId, int statusCode, string reason);

    [LoggerMessage(3001, LogLevel.Debug, "Connection {ConnectionId}: upgraded to WebSocket ({QueryString})")]
    public static partial void Upgraded(ILogger logger, string connectionId, string queryString);

    [LoggerMessage(3002, LogLevel.Debug, "Connection {ConnectionId}: protocol violation, closing with {CloseCode}: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string connectionId, ushort closeCode, string reason);

    [LoggerMessage(3003, LogLevel.Debug, "Connection {ConnectionId}: nothing received for {Seconds} s, closing")]
    public static partial void HeartbeatTimeout(ILogger logger, string connectionId, int seconds);

    [LoggerMessage(3004, LogLevel.Information, "Connection {ConnectionId}: writes blocked for over {Seconds} s, aborting")]
    public static partial void WriteTimeout(ILogger logger, string connectionId, int seconds);

    [LoggerMessage(3005, LogLevel.Warning, "Connection {ConnectionId}: over {Bytes} bytes of replies queued, closing with 1008")]
    public static partial void ReplyQueueFull(ILogger logger, string connectionId, int bytes);

    [LoggerMessage(3006, LogLevel.Debug, "Connection {ConnectionId}: no Close frame answered in {Seconds} s, aborting")]
    public static partial void CloseTimeout(ILogger logger, string connectionId, int seconds);

    [LoggerMessage(3007, LogLevel.Error, "Connection {ConnectionId}: the handler failed, closing with 1011")]
    public static partial void HandlerFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(3008, LogLevel.Debug, "Connection {ConnectionId}: transport error")]
    public static partial void TransportError(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(3009, LogLevel.Information, "File descriptors: soft limit {Soft}, hard limit {Hard}")]
    public static partial void FileDescriptorLimit(ILogger logger, long soft, long hard);

    [LoggerMessage(3010, LogLevel.Warning, "File descriptors: the limit could not be read or raised: {Reason}")]
    public static partial void FileDescriptorLimitUnavailable(ILogger logger, string reason);

    [LoggerMessage(3011, LogLevel.Warning, "{Open} connections open, at the file-descriptor limit {Limit} less the reserve: upgrade refused with 503")]
    public static partial void AtCapacity(ILogger logger, long open, long limit);

    [LoggerMessage(3012, LogLevel.Debug, "Connection {ConnectionId}: no complete upgrade request head within the handshake timeout")]
    public static partial void HandshakeTimeout(ILogger logger, string connectionId);

    [LoggerMessage(3013, LogLevel.Warning, "WebSocket heartbeat ran {Milliseconds} ms late: the thread pool may be starved")]
    public static partial void HeartbeatLate(ILogger logger, double milliseconds);

    [LoggerMessage(3014, LogLevel.Debug, "Connection {ConnectionId}: closed by the peer with {CloseCode}")]
    public static partial void ClosedByPeer(ILogger logger, string connectionId, ushort closeCode);

    [LoggerMessage(3015, LogLevel.Warning, "Connection {ConnectionId}: {Open} connections open, past the file-descriptor limit {Limit} less half the reserve: closed at once")]
    public static partial void ConnectionShed(ILogger logger, string connectionId, long open, long limit);

    [LoggerMessage(3030, LogLevel.Debug, "Connection {ConnectionId}: upgrade request after {Requests} HTTP request(s) on the same connection")]
    public static partial void UpgradeAfterRequests(ILogger logger, string connectionId, int requests);
}
