using System.Diagnostics;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// The real server and sockets with the pipeline's clock (ticker windows, minute refresh, the
/// view model's "now") on a <see cref="FakeTimeProvider"/>: a window ends exactly when the test says,
/// so edges are asserted, not hoped for. Kestrel keeps its own clock; nothing here depends on it.
/// </summary>
[Trait("Category", "socket")] public sealed class FakeTimePipelineTests(TestDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Post_OneThenThreeInOneWindow_LeadingBroadcastAtOnceThenOneTrailingWithLastName()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var (eventId, kw) = await database.CreateEventAsync("Edges", start, end, ("A", "#a"), ("B", "#b"));
        await using var server = await TestServer.StartAsync(database, timeProvider: time);
        await using var subscriber = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var joined = await subscriber.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout);
        long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);

        // Leading edge: not computed by the ticker in this window, so handled at once.
        await database.InsertEntryAsync(start.AddMinutes(1), kw["#a"]);
        long posted = Stopwatch.GetTimestamp();
        await PipelineKit.PostAsync(server, eventId, "first");
        var leading = await subscriber.ReceiveAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(leading);
        // The fake clock has not moved, so no tick ran: a broadcast now can only be the leading edge.
        // (How fast it came is reported, not asserted: wall time on a shared machine is not a property.)
        output.WriteLine($"leading edge after {PipelineKit.Milliseconds(posted, leading.ReceivedAt):F0} ms");
        Assert.Equal(("first", joined.Version + 1, 1), (leading.Event, leading.Version, leading.Total));

        // Three more in the same window: nothing until the window ends, then exactly one.
        string[] names = ["second", "third", "fourth"];
        foreach (var name in names)
        {
            await database.InsertEntryAsync(start.AddMinutes(2), kw["#b"]);
            await PipelineKit.PostAsync(server, eventId, name);
        }

        Assert.Null(await subscriber.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        time.Advance(Window);
        var trailing = await subscriber.ReceiveAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(trailing);
        Assert.Equal(("fourth", leading.Version + 1, 4), (trailing.Event, trailing.Version, trailing.Total));

        // The trailing edge consumed the flag: another window passes without a computation.
        time.Advance(Window);
        Assert.Null(await subscriber.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(2, server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) - computationsBefore);
    }

    [Fact]
    public async Task MinuteTurn_RunningEventCached_BroadcastsUpdateWithNewZeroPoint()
    {
        // Half a minute into a minute, so the test decides when the next one begins.
        var real = DateTimeOffset.UtcNow;
        var minute = new DateTimeOffset(real.Ticks - (real.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        var time = new FakeTimeProvider(minute.AddSeconds(30));
        var start = minute.UtcDateTime.AddMinutes(-10);
        var (eventId, kw) = await database.CreateEventAsync("Running", start, start.AddHours(2), ("A", "#a"), ("B", "#b"));
        await database.InsertEntryAsync(start.AddMinutes(4), kw["#a"]);
        await database.InsertEntryAsync(minute.UtcDateTime.AddSeconds(5), kw["#b"]);
        await using var server = await TestServer.StartAsync(database, timeProvider: time);
        await using var subscriber = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var joined = await subscriber.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout);
        Assert.Equal(11, Points(joined));

        // Up to hh:mm:00 exactly, the next minute does not overlap [start, now) yet (docs/design.md §5): nothing to do.
        long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(await subscriber.ReceiveAsync(TimeSpan.FromMilliseconds(500)));

        // The refresh loop's next check (every second) sees the turn.
        time.Advance(TimeSpan.FromSeconds(1));
        var update = await subscriber.ReceiveAsync(TimeSpan.FromSeconds(3));
        Assert.NotNull(update);
        Assert.Equal(("update", joined.Version + 1, 2), (update.Event, update.Version, update.Total));
        Assert.Equal(12, Points(update));
        Assert.All(update.ViewModel.GetProperty("queries").EnumerateArray(), q => Assert.Equal(0, q.GetProperty("time_series")[11].GetProperty("count").GetInt32()));
        Assert.Equal(1, server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) - computationsBefore);
    }

    [Fact]
    public async Task MinuteTurn_EndedEventCached_NoComputation()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var (eventId, kw) = await database.CreateEventAsync("Over", start, end, ("A", "#a"));
        await database.InsertEntryAsync(start.AddMinutes(4), kw["#a"]);
        await using var server = await TestServer.StartAsync(database, timeProvider: time);
        await using var subscriber = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal("ok", (await subscriber.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Status);
        long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);

        // Two minute turns, one second at a time as the refresh loop sees them.
        for (int i = 0; i < 120; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Null(await subscriber.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(0, server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) - computationsBefore);
    }

    private static int Points(InboxMessage message) =>
        message.ViewModel.GetProperty("queries")[0].GetProperty("time_series").GetArrayLength();
}
