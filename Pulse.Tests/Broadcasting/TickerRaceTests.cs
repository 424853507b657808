namespace Pulse.Tests.Broadcasting;

/// <summary>Real threads against the lock-free state: bounded counts, no timing asserted.</summary>
[Trait("Category", "unit")] public sealed class TickerRaceTests
{
    [Fact]
    public async Task NotifiersRaceTicksAndRemoval_LastNotificationOfEveryEventComputedWithoutOverlap()
    {
        var time = new FakeTimeProvider();
        using var compute = new RecordingCompute(time);
        compute.Behavior = async (_, _) => await Task.Yield(); // completes on the thread pool
        await using var ticker = new Ticker(new BroadcastOptions { MaxConcurrentComputations = 2 }, time, compute, NullLogger.Instance, new PulseMetrics())
        {
            IdleWindows = 1, // removal on every quiet tick: the notify/remove race is hit often
        };
        var events = Enumerable.Range(1, 4).Select(i => new Guid(i, 0, 0, new byte[8])).ToArray();
        using var done = new CancellationTokenSource();

        var ticking = Task.Run(async () =>
        {
            for (int i = 0; i < 20_000 && !done.IsCancellationRequested; i++)
            {
                ticker.OnTick();
                await Task.Yield();
            }
        });
        await Task.WhenAll(events.Select(id => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                ticker.Notify(new Notification(id, i == 1_999 ? "last" : $"n{i}"));
                if (i % 50 == 0)
                {
                    await Task.Yield();
                }
            }
        })));
        await done.CancelAsync();
        await ticking;

        // Quiet now: ticks drain whatever is still dirty. Polls a condition; the bound only guards a
        // lost notification, which would leave the condition false.
        bool LastComputed() => events.All(id => compute.For(id) is { Count: > 0 } calls && calls[^1].EventName == "last");
        for (int i = 0; i < 1_000 && !LastComputed(); i++)
        {
            ticker.OnTick();
            await Task.Delay(5);
        }

        await ticker.StopAsync();
        Assert.Equal(0, compute.Overlaps);
        Assert.All(events, id => Assert.Equal("last", compute.For(id)[^1].EventName));
    }
}
