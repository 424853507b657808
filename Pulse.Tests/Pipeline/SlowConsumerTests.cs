using System.Diagnostics;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Pipeline;

/// <summary>docs/design.md §8: one slow socket never delays the others, and costs the server one frame.</summary>
// Serial: it measures delivery delays and this process's memory growth, which parallel classes would move.
[Collection(SerialPipeline.Name)]
[Trait("Category", "socket")] public sealed class SlowConsumerTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int FastSockets = 10;
    private const int Rounds = 50; // one INSERT + POST every 100 ms for 5 s
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Broadcast_OneSocketNeverReads_OthersUndelayedAndMemoryFlat()
    {
        // 3 sides × 80 one-minute points × ~42 bytes a point ≈ 10 KB of view model per frame.
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(80));
        var (eventId, kw) = await database.CreateEventAsync("Big", start, end, ("Atleti", "#atm"), ("Barça", "#fcb"), ("Madrid", "#rm"));
        var keywords = kw.Values.ToArray();
        string topic = PipelineKit.Topic(eventId);

        // A 100 ms window: 10 frames a second, 50 in 5 s, so the slow socket has stale frames to skip.
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.TickMilliseconds = 100);
        var fast = new List<PhoenixClient>();
        try
        {
            for (int i = 0; i < FastSockets; i++)
            {
                fast.Add(await PhoenixClient.ConnectAsync(server.WebSocketUri()));
                Assert.Equal("ok", (await fast[^1].JoinAsync(topic, timeout: PipelineKit.ReplyTimeout)).Status);
            }

            using var slow = await RawClient.ConnectAsync(server.BaseAddress.Port, smallWindow: true);
            await slow.UpgradeAndJoinAsync(topic);
            long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
            long workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
            long skippedBefore = server.Server.Metrics.ReadLong(PulseMetrics.FramesSkippedTotal);

            var postedAt = await FlowAsync(server, eventId, start, keywords);
            var deliveries = (await Task.WhenAll(fast.Select(async client =>
            {
                var messages = await client.ReceiveUntilQuietAsync(TimeSpan.FromSeconds(1), max: 2 * Rounds);
                return messages.Select(m => new Delivery(m.Version, m.Event, m.ReceivedAt, m.Bytes)).ToList();
            }))).ToList();

            long skipped = server.Server.Metrics.ReadLong(PulseMetrics.FramesSkippedTotal) - skippedBefore;
            long memoryGrowth = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
            long workingSetGrowth = Process.GetCurrentProcess().WorkingSet64 - workingSetBefore;
            var lag = LagBehindFirst(deliveries);
            // Round 0 is the cold path (first API key lookup, first POST of the event): left out.
            var fromPost = deliveries[0].Where(d => postedAt.ContainsKey(d.Event) && d.Event != "round-0").Select(d => PipelineKit.Milliseconds(postedAt[d.Event], d.At)).Order().ToList();
            output.WriteLine($"frames {deliveries[0].Count} of {deliveries[0].Max(d => d.Bytes)} bytes; skipped {skipped}; lag behind the first fast socket: max {lag.Max():F1} ms, p50 {lag[lag.Count / 2]:F1} ms; " +
                $"POST→delivery p50 {fromPost[fromPost.Count / 2]:F1} ms, max {fromPost[^1]:F1} ms; managed memory {memoryGrowth / 1024.0:F0} KB, working set {workingSetGrowth / 1024.0:F0} KB");

            Assert.InRange(deliveries[0].Max(d => d.Bytes), 8_000, 16_000);
            Assert.True(deliveries[0].Count >= Rounds / 2, $"only {deliveries[0].Count} frames flowed");
            long lastVersion = deliveries.SelectMany(d => d).Max(d => d.Version);
            Assert.All(deliveries, d => Assert.Equal(lastVersion, d[^1].Version));
            Assert.True(lag.Max() < 100, $"a fast socket got a version {lag.Max():F1} ms after the first fast socket");
            Assert.True(skipped > 0, "the socket that never reads skipped no frame: its frames queued somewhere");
            Assert.True(memoryGrowth < 20 * 1024 * 1024, $"managed memory grew by {memoryGrowth / 1024 / 1024} MB");
        }
        finally
        {
            await Task.WhenAll(fast.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    // Every Every: a row, then a POST named after its round; returns when each POST was sent.
    private async Task<Dictionary<string, long>> FlowAsync(TestServer server, Guid eventId, DateTime start, Guid[] keywords)
    {
        var postedAt = new Dictionary<string, long>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Rounds; i++)
        {
            await database.InsertEntryAsync(start.AddMinutes(i % 80).AddSeconds(7), keywords[i % keywords.Length]);
            string name = "round-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            postedAt[name] = Stopwatch.GetTimestamp();
            await PipelineKit.PostAsync(server, eventId, name);
            var due = Every * (i + 1);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
        }

        return postedAt;
    }

    // For each version any fast socket got: how long after the first fast socket got it did each
    // other fast socket get it or a newer one (a latest-only slot may replace it, never delay it).
    private static List<double> LagBehindFirst(List<List<Delivery>> deliveries)
    {
        var first = deliveries.SelectMany(d => d).GroupBy(d => d.Version).ToDictionary(g => g.Key, g => g.Min(d => d.At));
        var lags = new List<double>();
        foreach (var (version, at) in first)
        {
            foreach (var socket in deliveries)
            {
                var got = socket.Where(d => d.Version >= version).Select(d => (long?)d.At).FirstOrDefault();
                lags.Add(got is { } gotAt ? PipelineKit.Milliseconds(at, gotAt) : double.PositiveInfinity);
            }
        }

        lags.Sort();
        return lags;
    }

    private readonly record struct Delivery(long Version, string Event, long At, int Bytes);
}
