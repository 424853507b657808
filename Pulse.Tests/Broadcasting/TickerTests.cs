using Pulse.Http;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Broadcasting;

[Trait("Category", "unit")] public sealed class TickerTests : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);
    private static readonly Guid EventA = Guid.Parse("0a0a0a0a-0000-0000-0000-00000000000a");
    private static readonly Guid EventB = Guid.Parse("0b0b0b0b-0000-0000-0000-00000000000b");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 20, 0, 0, TimeSpan.Zero));
    private readonly RecordingCompute _compute;
    private readonly ListLogger _logger = new();
    private readonly TestMetrics _metrics = new();
    private readonly Ticker _ticker;

    public TickerTests()
    {
        _compute = new RecordingCompute(_time);
        _ticker = new Ticker(new BroadcastOptions(), _time, _compute, _logger, _metrics.Instruments);
    }

    public async ValueTask DisposeAsync()
    {
        await _ticker.DisposeAsync();
        _compute.Dispose();
        _metrics.Dispose();
    }

    private void Tick()
    {
        _time.Advance(Window);
        _ticker.OnTick();
    }

    [Fact]
    public void Notify_IdleEvent_ComputesAtOnce()
    {
        _ticker.Notify(new Notification(EventA, "tweet"));

        var call = Assert.Single(_compute.Calls);
        Assert.Equal((EventA, "tweet"), (call.EventId, call.EventName));
        Assert.Equal(_time.GetUtcNow(), call.At);
    }

    [Fact]
    public void Notify_CountsEveryNotification()
    {
        long before = _metrics.Read(PulseMetrics.NotificationsTotal);

        for (int i = 0; i < 5; i++)
        {
            _ticker.Notify(new Notification(EventA, "tweet"));
        }

        Assert.Equal(5, _metrics.Read(PulseMetrics.NotificationsTotal) - before);
    }

    [Fact]
    public void Notify_SeveralWithinWindow_OneTrailingComputationWithLatestName()
    {
        _ticker.Notify(new Notification(EventA, "n1"));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        _ticker.Notify(new Notification(EventA, "n2"));
        _ticker.Notify(new Notification(EventA, "n3"));
        _ticker.Notify(new Notification(EventA, "n4"));
        Assert.Single(_compute.Calls);

        Tick();
        Tick();

        Assert.Equal(["n1", "n4"], _compute.Calls.Select(c => c.EventName));
    }

    [Fact]
    public void Notify_AfterAWindowWithoutComputation_ComputesAtOnceAgain()
    {
        _ticker.Notify(new Notification(EventA, "n1"));
        Tick();

        _ticker.Notify(new Notification(EventA, "n2"));

        Assert.Equal(["n1", "n2"], _compute.Calls.Select(c => c.EventName));
    }

    [Fact]
    public void OnTick_NothingNotified_NoComputation()
    {
        for (int i = 0; i < 10; i++)
        {
            Tick();
        }

        Assert.Empty(_compute.Calls);
        Assert.Equal(0, _ticker.StateCount);
    }

    [Fact]
    public void Notify_WhileComputationRuns_NoOverlapAndOneMoreAfterIt()
    {
        var slow = new TaskCompletionSource();
        _compute.Behavior = (_, _) => _compute.Calls.Count == 1 ? slow.Task : Task.CompletedTask;
        _ticker.Notify(new Notification(EventA, "first"));

        // The computation outlives three windows while notifications keep coming.
        for (int i = 0; i < 3; i++)
        {
            _ticker.Notify(new Notification(EventA, $"during{i}"));
            Tick();
        }

        Assert.Single(_compute.Calls);

        slow.SetResult(); // the window ended long ago: the trailing edge starts as the computation ends

        Assert.Equal(["first", "during2"], _compute.Calls.Select(c => c.EventName));
        Tick();
        Assert.Equal(2, _compute.Calls.Count);
        Assert.Equal(0, _compute.Overlaps);
    }

    [Fact]
    public void SlowComputationOfOneEvent_OtherEvent_NotDelayed()
    {
        var slowA = new TaskCompletionSource();
        _compute.Behavior = (call, _) => call.EventId == EventA ? slowA.Task : Task.CompletedTask;

        _ticker.Notify(new Notification(EventA, "a"));
        _ticker.Notify(new Notification(EventB, "b1"));
        _ticker.Notify(new Notification(EventB, "b2"));
        Tick();

        Assert.Single(_compute.For(EventA));
        Assert.Equal(["b1", "b2"], _compute.For(EventB).Select(c => c.EventName));
        slowA.SetResult();
    }

    [Fact]
    public void ComputationThrows_EventStaysDirty_RetriedNextWindowUntilSuccess()
    {
        var failure = new InvalidOperationException("database down");
        _compute.Behavior = (_, _) => _compute.Calls.Count == 1 ? Task.FromException(failure) : Task.CompletedTask;

        _ticker.Notify(new Notification(EventA, "n1"));
        Assert.Single(_logger.Events, e => e.Id == 5002);

        Tick();
        Tick();

        // The retry succeeded (recovery logged once) and nothing failed after it.
        Assert.Equal(["n1", "n1"], _compute.Calls.Select(c => c.EventName));
        Assert.Single(_logger.Events, e => e.Id == 5002);
        Assert.Single(_logger.Events, e => e.Id == 5006);
    }

    [Fact]
    public void RecomputeHeld_TwoHeldEvents_EachComputedOnceAsUpdate()
    {
        _compute.Held.AddRange([EventA, EventB]);

        Assert.Equal(2, _ticker.RecomputeHeld());

        Assert.Equal([(EventA, "update"), (EventB, "update")], _compute.Calls.Select(c => (c.EventId, c.EventName)).OrderBy(c => c.EventId));
    }

    [Fact]
    public void RecomputeHeld_AfterReconnect_EveryHeldEventReadsInFullBeforeItIsComputed()
    {
        _compute.Held.Add(EventA);
        Guid[]? toldBeforeComputing = null;
        _compute.Behavior = (call, _) =>
        {
            toldBeforeComputing = _compute.FullReads.ToArray();
            return Task.CompletedTask;
        };

        _ticker.RecomputeHeld();

        // Notifications may have been missed, deletions among them: the computation must be a full read.
        Assert.Single(_compute.Calls);
        Assert.NotNull(toldBeforeComputing);
        Assert.Equal([Guid.Empty], toldBeforeComputing);
    }

    [Fact]
    public void Repair_FullReadRequiredAndEventComputed()
    {
        _ticker.Repair(EventA);

        // The repair notice alone starts a computation: its 'update' may have been folded into an earlier one.
        Assert.Equal([EventA], _compute.FullReads);
        Assert.Equal([(EventA, "update")], _compute.Calls.Select(c => (c.EventId, c.EventName)));
    }

    [Fact]
    public void QuietEvent_AfterIdleWindows_StateRemovedAndNextNotificationComputesAtOnce()
    {
        _ticker.Notify(new Notification(EventA, "n1"));
        for (int i = 0; i < Ticker.IdleWindowsBeforeRemoval - 1; i++)
        {
            Tick();
        }

        Assert.Equal(1, _ticker.StateCount);
        Tick();
        Assert.Equal(0, _ticker.StateCount);

        _ticker.Notify(new Notification(EventA, "n2"));
        Assert.Equal(["n1", "n2"], _compute.Calls.Select(c => c.EventName));
    }

    [Fact]
    public void Notify_StateRemovedByTickUnderTheNotifier_FreshStateMarkedAndComputed()
    {
        // The outcome of the race: a tick removed the state after the notifier's lookup found it.
        var removed = new TickerEventState();
        removed.TryMarkDirty("old");
        removed.TryClaim(window: -5);
        removed.TakePending();
        removed.Complete();
        Assert.True(removed.TryMarkRemoved(window: 0, idleWindows: 1));
        _ticker.States[EventA] = removed;

        _ticker.Notify(new Notification(EventA, "n1"));

        Assert.Equal("n1", Assert.Single(_compute.Calls).EventName);
        Assert.NotSame(removed, _ticker.States[EventA]);
    }

    [Fact]
    public void MarkDirty_WithoutName_CarriesPendingNameOrUpdate()
    {
        _ticker.Notify(new Notification(EventA, "n1"));
        _ticker.Notify(new Notification(EventA, "n2"));
        _ticker.MarkDirty(EventA); // the minute turns while n2 is pending: n2 is still the latest notification
        Tick();
        _ticker.MarkDirty(EventA); // nothing pending; computed this window, so at its end
        Tick();

        Assert.Equal(["n1", "n2", Notification.DatabaseEventName], _compute.Calls.Select(c => c.EventName));
    }

    [Fact]
    public async Task Notify_ManyEventsWhileOneComputes_EachStartsAtOnce()
    {
        // The ticker holds no slots: the database work is bounded where it is done (SnapshotService), so
        // a leading edge never waits behind another battle's computation.
        await using var ticker = new Ticker(new BroadcastOptions { MaxConcurrentComputations = 1 }, _time, _compute, _logger, _metrics.Instruments);
        var holdB = new TaskCompletionSource();
        _compute.Behavior = (call, _) => call.EventId == EventB ? holdB.Task : Task.CompletedTask;
        try
        {
            ticker.Notify(new Notification(EventB, "b"));
            ticker.Notify(new Notification(EventA, "goal"));

            Assert.Equal(["goal"], _compute.For(EventA).Select(c => c.EventName));
        }
        finally
        {
            holdB.SetResult(); // else disposing the ticker waits for B forever
        }
    }

    [Fact]
    public async Task MinuteRefreshWhileNamedComputationRuns_NextWindowBroadcastsUpdate()
    {
        await using var ticker = new Ticker(new BroadcastOptions(), _time, _compute, _logger, _metrics.Instruments);
        var holdA = new TaskCompletionSource();
        _compute.Behavior = (call, _) => call.EventName == "goal" ? holdA.Task : Task.CompletedTask;
        ticker.Notify(new Notification(EventA, "goal")); // taken at the start: "goal" is this computation's
        ticker.MarkDirty(EventA); // a minute's turn while it runs: unnamed, so one more, as "update"
        holdA.SetResult();
        _time.Advance(Window);
        ticker.OnTick();
        await _compute.WaitForCallsAsync(2);

        Assert.Equal(["goal", Notification.DatabaseEventName], _compute.For(EventA).Select(c => c.EventName));
    }

    [Fact]
    public void MinuteRefreshAlone_BroadcastsUpdate()
    {
        _ticker.Notify(new Notification(EventA, "goal"));
        Tick();

        _ticker.MarkDirty(EventA); // a minute's turn, nothing notified since the named computation

        Assert.Equal(["goal", Notification.DatabaseEventName], _compute.For(EventA).Select(c => c.EventName));
    }

    [Fact]
    public void ComputationThrows_MinuteRefreshBeforeRetry_RetryKeepsPostedName()
    {
        _compute.Behavior = (_, _) => _compute.Calls.Count == 1 ? Task.FromException(new TimeoutException()) : Task.CompletedTask;
        _ticker.Notify(new Notification(EventA, "goal"));

        _ticker.MarkDirty(EventA);
        Tick();

        Assert.Equal(["goal", "goal"], _compute.Calls.Select(c => c.EventName));
    }

    [Fact]
    public void MarkAllDirty_AfterReconnect_ComputesEveryEventOnce()
    {
        _ticker.Notify(new Notification(EventA, "n1"));

        _ticker.MarkAllDirty([EventA, EventB]);
        Tick();
        Tick();

        Assert.Equal(2, _compute.For(EventA).Count); // n1 at once, the recompute at the window's end
        Assert.Equal(Notification.DatabaseEventName, Assert.Single(_compute.For(EventB)).EventName);
    }

    [Fact]
    public void OnTick_ComputationBlocksLongerThanPeriod_OverrunLogged()
    {
        _compute.Behavior = (_, _) =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(600)); // a computation that blocks before its first await
            return Task.CompletedTask;
        };
        _ticker.Notify(new Notification(EventA, "n1"));
        _ticker.Notify(new Notification(EventA, "n2"));
        Assert.DoesNotContain(_logger.Events, e => e.Id == 5000);

        Tick();

        Assert.Contains(_logger.Events, e => e.Id == 5000);
    }
}
