using System.Diagnostics;
using System.Net.WebSockets;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Cluster;

/// <summary>Shutdown (docs/design.md §7): SIGTERM closes sockets with 1001 in batches over the drain window, exit 0.</summary>
[Trait("Category", "binary")] public sealed class DrainTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Sigterm_TwoHundredSockets_ClosedWith1001SpreadOverWindow_ExitZeroInTime()
    {
        const int count = 200;
        var env = new Dictionary<string, string> { ["PULSE_Shutdown__DrainSeconds"] = "2" };
        await using var node = await PulseProcess.StartAsync(database.Url, environment: env);
        var (eventId, _) = await ClusterKit.CreateEventAsync(database);
        var sockets = new List<PhoenixClient>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Half joined to an event, half bare: both kinds must be drained.
                sockets.Add(i % 2 == 0 ? await PhoenixClient.ConnectAndJoinAsync(node.WebSocketUri, $"event:{eventId:D}") : await PhoenixClient.ConnectAsync(node.WebSocketUri));
            }

            long sigterm = Stopwatch.GetTimestamp();
            var (exitCode, elapsed) = await node.StopAsync(TimeSpan.FromSeconds(10));

            Assert.True(exitCode == 0, $"exit code {exitCode}; output:\n{node.Output}");
            Assert.All(sockets, s => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, s.CloseStatus));
            var closes = sockets.Select(s => Stopwatch.GetElapsedTime(sigterm, s.ClosedAt).TotalMilliseconds).Order().ToList();
            double spread = closes[^1] - closes[0];
            output.WriteLine($"drain of {count} sockets, window 2 s: first close {closes[0]:F0} ms, last {closes[^1]:F0} ms after SIGTERM (spread {spread:F0} ms); exit after {elapsed.TotalMilliseconds:F0} ms");
            Console.WriteLine($"[cluster] drain of {count} sockets, window 2 s: first close {closes[0]:F0} ms, last {closes[^1]:F0} ms (spread {spread:F0} ms); exit 0 after {elapsed.TotalMilliseconds:F0} ms");
            Assert.True(spread >= 1500, $"closes spread over {spread:F0} ms only");
            // The contract (docs/design.md §7): done within the window plus a second. A tighter 2.5 s failed
            // once in CI (2,559 ms) with the suite running beside: the drain's timer ran late and caught up.
            Assert.True(closes[^1] <= 3000, $"last close {closes[^1]:F0} ms after SIGTERM");
            Assert.True(elapsed < TimeSpan.FromSeconds(3), $"exited {elapsed.TotalMilliseconds:F0} ms after SIGTERM");

            // Batches over the window, not all at once: the closes fall into many 100 ms slices. (A late
            // timer makes the drain catch up with a bigger batch, by design, so a slice's size is not a property.)
            int slices = closes.Select(ms => (int)(ms / 100)).Distinct().Count();
            Assert.True(slices >= 8, $"closes fell into only {slices} 100 ms slices");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
