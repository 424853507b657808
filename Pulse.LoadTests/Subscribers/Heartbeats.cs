using System.Globalization;
using System.Net.Sockets;
using Pulse.Testing.Phoenix;
using Pulse.Testing.Raw;

namespace Pulse.LoadTests.Subscribers;

/// <summary>Keeps held sockets alive: a Phoenix heartbeat on every open one each interval until stopped.</summary>
internal static class Heartbeats
{
    /// <summary>Under the 60 s server heartbeat timeout (docs/design.md §7) with room for a slow round.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Sends a heartbeat to every open socket of <paramref name="sockets"/> each <see cref="Interval"/>;
    /// a socket that is gone is passed over (the caller counts it at the end).
    /// </summary>
    public static async Task RunAsync(IReadOnlyList<RawClient?> sockets, CancellationToken stopping)
    {
        // Bounded: one round per interval until stopped, at most a day of rounds.
        for (int round = 0; round < 3456 && !stopping.IsCancellationRequested; round++)
        {
            try
            {
                await Task.Delay(Interval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            string heartbeat = PhoenixV2Codec.EncodeText(null, (round + 2).ToString(CultureInfo.InvariantCulture), "phoenix", "heartbeat");
            foreach (RawClient? socket in sockets)
            {
                if (socket is { IsClosed: false })
                {
                    try
                    {
                        await socket.SendTextAsync(heartbeat, stopping);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
                    {
                        // Gone, or stopping.
                    }
                }
            }
        }
    }
}
