using Pulse.Cluster;
using Pulse.Diagnostics;
using Pulse.WebSockets;

namespace Pulse.Hosting;

/// <summary>
/// Closes every open WebSocket with 1001 ("going away", RFC 6455 §7.4.1) in batches spread over the
/// drain window (docs/design.md §7), so the browsers of a node being deployed do not all reconnect to the
/// other nodes in the same millisecond.
/// </summary>
/// <remarks>
/// Runs once, when the host starts stopping: Kestrel has stopped accepting (or is about to) and waits
/// for the connections to end, which they do as their close handshakes complete. Batches go out every
/// <see cref="Step"/>: with 19,000 sockets and 10 s, 100 batches of 190; the last batch is queued one
/// step before the window ends, leaving a step for the handshakes.
/// </remarks>
internal sealed class ShutdownDrain(WebSocketHeartbeat sockets, TimeProvider time, ILogger logger)
{
    /// <summary>Time between two batches.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    public const string Reason = "server shutting down";

    /// <summary>Closes the open sockets over <paramref name="window"/>; returns how many close frames were queued.</summary>
    public async Task<int> DrainAsync(TimeSpan window, CancellationToken cancellationToken = default)
    {
        long started = time.GetTimestamp();
        var open = sockets.Snapshot();
        int steps = Math.Max(1, (int)(window / Step));
        int batch = (open.Count + steps - 1) / steps;
        if (open.Count > 0)
        {
            ClusterLog.DrainStarted(logger, open.Count, (int)window.TotalMilliseconds, batch, (int)Step.TotalMilliseconds);
        }

        int closed = 0;
        for (int step = 0; closed < open.Count; step++)
        {
            // Against the start, not the previous batch: delays do not add up over 100 steps.
            var due = Step * step - time.GetElapsedTime(started);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, time, cancellationToken);
            }

            for (int end = Math.Min(open.Count, closed + batch); closed < end; closed++)
            {
                open[closed].Close(WebSocketCloseCode.GoingAway, Reason);
            }
        }

        // Sockets upgraded between the snapshot and the listeners' stop: no reason to wait for them.
        foreach (var late in sockets.Snapshot())
        {
            late.Close(WebSocketCloseCode.GoingAway, Reason);
        }

        if (open.Count > 0)
        {
            ClusterLog.DrainFinished(logger, closed, time.GetElapsedTime(started).TotalMilliseconds);
        }

        return closed;
    }
}
