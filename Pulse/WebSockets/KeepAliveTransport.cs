using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections.Features;

namespace Pulse.WebSockets;

/// <summary>
/// What Kestrel is given instead of the transport while a connection serves plain HTTP: the transport's input
/// behind a <see cref="RequestBoundaryReader"/>, its output behind a writer that Kestrel cannot complete, and a
/// heartbeat it can detach from. Together they let Kestrel leave its request loop without closing the socket and
/// without anything of it staying alive for the WebSocket that follows.
/// </summary>
internal sealed class KeepAliveTransport(IDuplexPipe transport, int maxUpgradeHeadBytes) : IDuplexPipe
{
    private readonly RequestBoundaryReader _input = new(transport.Input, maxUpgradeHeadBytes);
    private readonly SharedOutput _output = new(transport.Output);

    public PipeReader Input => _input;

    public PipeWriter Output => _output;

    /// <summary>See <see cref="RequestBoundaryReader.EndedAtUpgrade"/>.</summary>
    public bool EndedAtUpgrade => _input.EndedAtUpgrade;

    /// <summary>Request heads Kestrel was shown.</summary>
    public int Requests => _input.Requests;

    /// <summary>The transport's output, with <see cref="Complete"/> ignored: the socket outlives Kestrel's request loop.</summary>
    private sealed class SharedOutput(PipeWriter inner) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => inner.WriteAsync(source, cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
        }
    }
}

/// <summary>
/// Stands in for the connection's <see cref="IConnectionHeartbeatFeature"/> while Kestrel serves it. Kestrel's HTTP
/// layer registers a once-a-second callback (its timeouts) that the connection would call, and hold, for as long as
/// the socket lives; after an upgrade that would keep Kestrel's whole request state (headers, features, buffers)
/// reachable from every WebSocket, and its timers could still abort the socket. <see cref="Detach"/> drops them.
/// </summary>
internal sealed class HeartbeatGate : IConnectionHeartbeatFeature
{
    private static readonly Action<object> TickCallback = state => ((HeartbeatGate)state).Tick();

    // Copied on write (Kestrel registers once), so a tick reads it without a lock; the gate outlives the HTTP
    // phase in the connection's own list, so it holds nothing else.
    private (Action<object> Action, object State)[] _handlers = [];

    /// <summary>Registers the gate itself with the connection's heartbeat (which never forgets a registration).</summary>
    public HeartbeatGate(IConnectionHeartbeatFeature connection) => connection.OnHeartbeat(TickCallback, this);

    public void OnHeartbeat(Action<object> action, object state)
    {
        var handlers = Volatile.Read(ref _handlers);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _handlers, [.. handlers, (action, state)], handlers);
            if (ReferenceEquals(seen, handlers))
            {
                return;
            }

            handlers = seen;
        }
    }

    /// <summary>No more ticks, and no more references, to whatever registered.</summary>
    public void Detach() => Volatile.Write(ref _handlers, []);

    private void Tick()
    {
        foreach (var (action, state) in Volatile.Read(ref _handlers))
        {
            action(state);
        }
    }
}
