using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Pulse.Configuration;
using Pulse.Diagnostics;

namespace Pulse.WebSockets;

/// <summary>
/// Kestrel connection middleware: reads the first request head of each connection; an upgrade to
/// <c>/socket/websocket</c> is answered by hand and the connection becomes a WebSocket on the transport's
/// own pipes (no <c>HttpContext</c> is ever created for it). Anything else goes on, its bytes unconsumed, to
/// <c>next</c> (the HTTP pipeline) over a <see cref="KeepAliveTransport"/>: when a later request of that
/// connection is an upgrade (nginx sends upgrades over the idle upstream connections it keeps), Kestrel
/// answers every request before it and leaves, and the upgrade is taken exactly as a first one.
/// </summary>
/// <remarks>
/// Why not <c>IHttpUpgradeFeature</c>: an upgrade through it keeps Kestrel's request state alive for the
/// socket's life (11.7 KiB a socket on a minimal server, 5.8 KiB on the connection layer, docs/design.md §7).
/// Here Kestrel's request loop ends as after a client's FIN, at a request boundary, and none of its request
/// state stays reachable: its input reads as completed (<see cref="RequestBoundaryReader"/>), its output cannot be
/// completed, and its heartbeat registration is detached (<see cref="HeartbeatGate"/>). Kestrel's loop
/// (Http1Connection.TryParseRequest) ends "cleanly" on a completed input between requests: no response, no
/// abort, no close of the transport, which the middleware then restores.
/// </remarks>
internal sealed class WebSocketMiddleware(
    ConnectionDelegate next,
    WebSocketTransportOptions options,
    IWebSocketHandlerFactory factory,
    WebSocketHeartbeat heartbeat,
    ILogger logger,
    TimeProvider time,
    PulseMetrics metrics)
{
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        FileDescriptorLimit.Enter();
        try
        {
            if (FileDescriptorLimit.IsNearLimit(options.FileDescriptorReserve / 2))
            {
                // Upgrades stop at the limit less the reserve; plain connections may go on into the reserve,
                // but only halfway. Were the descriptors to run out, accept() would fail with EMFILE and
                // Kestrel's accept loop would retry at once, spinning a core for as long as a flood of idle
                // connections holds them (measured: one core at 100 %, FileDescriptorLimitTests). Closing
                // the newest connection keeps half the reserve for PostgreSQL, listeners and files.
                WebSocketsLog.ConnectionShed(logger, connection.ConnectionId, FileDescriptorLimit.OpenConnections, FileDescriptorLimit.Limit);
                connection.Abort(new ConnectionAbortedException("at the file-descriptor limit"));
                return;
            }

            var head = await ReadUpgradeHeadAsync(connection);
            if (head is null)
            {
                if (!await ServeHttpAsync(connection))
                {
                    return;
                }

                head = await ReadUpgradeHeadAsync(connection);
            }

            if (head is { Length: > 0 } complete)
            {
                await UpgradeAsync(connection, complete);
            }
        }
        finally
        {
            FileDescriptorLimit.Exit();
        }
    }

    /// <summary>
    /// Reads the request head at the start of the input: the connection's first, or the one at the request
    /// boundary where <see cref="ServeHttpAsync"/> stopped. null: not an upgrade, pass on (the input left
    /// unconsumed). Empty: answered or dropped here. Otherwise the complete head, consumed from the input.
    /// The handshake timeout runs from here, so a half-sent upgrade head holds a descriptor for at most that long,
    /// on a new connection and on a keep-alive one alike.
    /// </summary>
    private async Task<ReadOnlyMemory<byte>?> ReadUpgradeHeadAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        bool isUpgrade = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.HandshakeTimeoutSeconds), time);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // A slow client of the HTTP pipeline is its business (it has its own timeouts); a slow
                // upgrade is dropped so that it cannot hold a descriptor (slowloris).
                WebSocketsLog.HandshakeTimeout(logger, connection.ConnectionId);
                return isUpgrade ? ReadOnlyMemory<byte>.Empty : null;
            }

            var buffer = result.Buffer;
            var kind = HandshakeParser.Classify(buffer, options.MaxRequestHeadBytes, out int headLength);
            switch (kind)
            {
                case HeadKind.NotWebSocket:
                    // consumed = examined = start: the HTTP pipeline's first read sees every byte at once.
                    input.AdvanceTo(buffer.Start);
                    return null;
                case HeadKind.TooLarge:
                    input.AdvanceTo(buffer.End);
                    await RefuseAsync(connection, 431, "request head too large");
                    return ReadOnlyMemory<byte>.Empty;
                case HeadKind.WebSocket:
                    var head = buffer.Slice(0, headLength).ToArray();
                    input.AdvanceTo(buffer.GetPosition(headLength));
                    return head;
                default:
                    if (result.IsCompleted)
                    {
                        input.AdvanceTo(buffer.Start);
                        return isUpgrade ? ReadOnlyMemory<byte>.Empty : null;
                    }

                    isUpgrade = kind == HeadKind.NeedMoreWebSocket;
                    input.AdvanceTo(buffer.Start, buffer.End);
                    break;
            }
        }
    }

    /// <summary>
    /// Runs Kestrel's HTTP/1.1 request loop over a <see cref="KeepAliveTransport"/>. True when it ended at a
    /// WebSocket upgrade head at a request boundary, every earlier request answered: the real transport, restored,
    /// then starts with that head. False when Kestrel ended the connection for any reason of its own.
    /// </summary>
    private async Task<bool> ServeHttpAsync(ConnectionContext connection)
    {
        var transport = connection.Transport;
        var keepAlive = new KeepAliveTransport(transport, options.MaxRequestHeadBytes);
        var heartbeat = connection.Features.Get<IConnectionHeartbeatFeature>();
        var gate = heartbeat is null ? null : new HeartbeatGate(heartbeat);
        if (gate is not null)
        {
            connection.Features.Set<IConnectionHeartbeatFeature>(gate);
        }

        // ConnectionContext.Transport is settable for this: HttpsConnectionMiddleware swaps in its TLS stream the same way.
        connection.Transport = keepAlive;
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
            if (gate is not null)
            {
                connection.Features.Set(heartbeat);
                gate.Detach();
            }
        }

        if (!keepAlive.EndedAtUpgrade || connection.ConnectionClosed.IsCancellationRequested)
        {
            return false;
        }

        WebSocketsLog.UpgradeAfterRequests(logger, connection.ConnectionId, keepAlive.Requests);
        return true;
    }

    private async Task UpgradeAsync(ConnectionContext connection, ReadOnlyMemory<byte> headBytes)
    {
        var head = HandshakeParser.Parse(headBytes.Span);
        if (head is null)
        {
            await RefuseAsync(connection, 400, "malformed request");
            return;
        }

        int status = Handshake.Validate(head, options.AllowedOrigins, out string error);
        if (status == 0 && FileDescriptorLimit.IsNearLimit(options.FileDescriptorReserve))
        {
            WebSocketsLog.AtCapacity(logger, FileDescriptorLimit.OpenConnections, FileDescriptorLimit.Limit);
            (status, error) = (503, "server at capacity, try again later");
        }

        var request = new WebSocketRequest(head.Path, head.QueryString, head.Origin, connection.RemoteEndPoint?.ToString() ?? string.Empty);
        if (status == 0 && !factory.TryAccept(request, out string? refusal))
        {
            (status, error) = (400, refusal ?? "upgrade refused");
        }

        if (status != 0)
        {
            await RefuseAsync(connection, status, error);
            return;
        }

        Handshake.WriteSwitchingProtocols(connection.Transport.Output, head.Key!);
        await connection.Transport.Output.FlushAsync();
        WebSocketsLog.Upgraded(logger, connection.ConnectionId, head.QueryString);

        var socket = new WebSocketConnection(connection, options, heartbeat, logger, time, metrics);
        await socket.RunAsync(factory.Create(socket, request));
    }

    private async Task RefuseAsync(ConnectionContext connection, int status, string error)
    {
        WebSocketsLog.HandshakeRejected(logger, connection.ConnectionId, status, error);
        Handshake.WriteError(connection.Transport.Output, status, error);
        await connection.Transport.Output.FlushAsync();
    }
}

/// <summary>Wiring into Kestrel.</summary>
internal static class WebSocketListenOptionsExtensions
{
    /// <summary>
    /// Adds the WebSocket transport in front of the HTTP pipeline of <paramref name="listenOptions"/>. Also
    /// raises the soft file-descriptor limit once (idempotent). Call once per listener; the heartbeat
    /// timer is shared by the sockets of that listener, or of every listener given the same
    /// <paramref name="heartbeat"/> (the server passes one, so shutdown can enumerate all sockets).
    /// </summary>
    public static ListenOptions UsePulseWebSockets(
        this ListenOptions listenOptions,
        WebSocketTransportOptions options,
        IWebSocketHandlerFactory factory,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        PulseMetrics metrics,
        WebSocketHeartbeat? heartbeat = null)
    {
        var logger = loggerFactory.CreateLogger("Pulse.WebSockets");
        if (FileDescriptorLimit.Raise() is { } limits)
        {
            WebSocketsLog.FileDescriptorLimit(logger, limits.Soft, limits.Hard);
        }
        else
        {
            WebSocketsLog.FileDescriptorLimitUnavailable(logger, "getrlimit not available");
        }

        heartbeat ??= new WebSocketHeartbeat(time, logger);
        listenOptions.Use(next => new WebSocketMiddleware(next, options, factory, heartbeat, logger, time, metrics).OnConnectionAsync);
        return listenOptions;
    }
}
