using Pulse.Broadcasting;
using Pulse.Configuration;
using Pulse.Diagnostics;
using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>
/// The transport's entry into Phoenix: checks <c>vsn</c> before the upgrade and creates one
/// <see cref="PhoenixChannelSession"/> per socket. Thread-safe; one instance per server.
/// </summary>
internal sealed class PhoenixSocketFactory(
    Hub hub, ISnapshotProvider snapshots, WebSocketTransportOptions options, ILogger<PhoenixChannelSession> logger, PulseMetrics metrics, TimeProvider? time = null) : IWebSocketHandlerFactory
{
    // Shared by every session: join failures are rate-limited per server, not per socket.
    private readonly LogLimiter _joinFailures = new(time ?? TimeProvider.System, LogLimiter.DefaultInterval);

    public bool TryAccept(in WebSocketRequest request, out string? error)
    {
        if (PhoenixVsn.TryParse(request.QueryString, out _))
        {
            error = null;
            return true;
        }

        PhoenixLog.UpgradeRefused(logger, PhoenixVsn.UnsupportedError);
        error = PhoenixVsn.UnsupportedError;
        return false;
    }

    public IWebSocketHandler Create(WebSocketConnection connection, in WebSocketRequest request) =>
        CreateSession(new WebSocketChannelTransport(connection), request.QueryString);

    /// <summary>The session over any transport; <paramref name="queryString"/> was accepted by <see cref="TryAccept"/>.</summary>
    public PhoenixChannelSession CreateSession(IChannelTransport transport, string queryString)
    {
        if (!PhoenixVsn.TryParse(queryString, out var version))
        {
            throw new ArgumentException(PhoenixVsn.UnsupportedError, nameof(queryString));
        }

        return new PhoenixChannelSession(transport, PhoenixSerializer.For(version), hub, snapshots, options, _joinFailures, logger, metrics);
    }
}
