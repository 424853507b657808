namespace Pulse.Tests.Broadcasting;

/// <summary>The ticker under a flood, at its concurrency bound, and driven by its own timer loop.</summary>
[Trait("Category", "unit")] public sealed class TickerLoadTests
{
    private static readonly Guid EventA = Guid.Parse("0a0a0a0a-0000-0000-0000-00000000000a");
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Flood_10000NotificationsIn5Seconds_AtMostTwoPerSecondAndTheLastOneComputed()
    {
        var time = new FakeTimeProvider(Start);
        using var compute = new RecordingCompute(time);
        await using var ticker = new Ticker(new BroadcastOptions(), time, compute, NullLogger.Instance, new PulseMetrics());

        // One notification every 0.5 ms of fake time over [0 s, 5 s); the timer ticks every 500 ms,
        // at the boundary before that instant's notification.
        var step = TimeSpan.FromMicroseconds(500);
        for (int i = 0; i < 10_000; i++)
        {
            if (i > 0 && i % 1000 == 0)
            {
                ticker.OnTick();
            }

            ticker.Notify(new Notification(EventA, $"n{i}"));
            time.Advance(step);
        }

        var lastNotificationAt = time.GetUtcNow() - step;
        for (int i = 0; i < 3; i++)
        {
            ticker.OnTick(); // at 5.0 s, 5.5 s, 6.0 s
            time.Advance(TimeSpan.FromMilliseconds(500));
        }

        // 1 leading edge at 0 s + one trailing edge per tick at 0.5 s … 5.0 s = 11.
        var calls = compute.Calls.ToList();
        Assert.Equal(11, calls.Count);
        Assert.All(calls.GroupBy(c => (int)(c.At - Start).TotalSeconds), second => Assert.True(second.Count() <= 2));
        Assert.True(calls[^1].At > lastNotificationAt);
        Assert.Equal("n9999", calls[^1].EventName);
        Assert.Equal(1, ticker.StateCount);
    }

    [Fact]
    public async Task Start_FakeTimeAdvancesOneWindow_TimerRunsTrailingEdge()
    {
        var time = new FakeTimeProvider(Start);
        using var compute = new RecordingCompute(time);
        await using var ticker = new Ticker(new BroadcastOptions(), time, compute, NullLogger.Instance, new PulseMetrics());
        ticker.Start();

        ticker.Notify(new Notification(EventA, "n1"));
        ticker.Notify(new Notification(EventA, "n2"));
        Assert.Single(compute.Calls);

        time.Advance(TimeSpan.FromMilliseconds(500));
        await compute.WaitForCallsAsync(2);

        Assert.Equal(["n1", "n2"], compute.Calls.Select(c => c.EventName));
        await ticker.StopAsync();
    }

    [Fact]
    public async Task StopAsync_ComputationRunning_CancelsItAndWaitsForIt()
    {
        var time = new FakeTimeProvider(Start);
        using var compute = new RecordingCompute(time);
        bool sawCancellation = false;
        compute.Behavior = async (_, cancellationToken) =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                sawCancellation = true;
                throw;
            }
        };
        var ticker = new Ticker(new BroadcastOptions(), time, compute, NullLogger.Instance, new PulseMetrics());
        ticker.Start();
        ticker.Notify(new Notification(EventA, "n1"));

        await ticker.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(sawCancellation);
        ticker.Notify(new Notification(EventA, "n2")); // stopped: marks, computes nothing
        Assert.Single(compute.Calls);
        await ticker.DisposeAsync();
    }
}
