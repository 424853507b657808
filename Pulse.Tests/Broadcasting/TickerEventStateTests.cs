namespace Pulse.Tests.Broadcasting;

[Trait("Category", "unit")] public sealed class TickerEventStateTests
{
    [Fact]
    public void TryClaim_TwiceInOneWindow_SecondRefused()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        Assert.True(state.TryClaim(window: 1));
        Assert.Equal("n1", state.TakePending());
        Assert.False(state.Complete());

        state.TryMarkDirty("n2");

        Assert.False(state.TryClaim(window: 1));
        Assert.True(state.TryClaim(window: 2));
    }

    [Fact]
    public void TryClaim_WhileRunning_RefusedAndCompleteReportsDirty()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        state.TryClaim(window: 1);
        state.TakePending();

        state.TryMarkDirty("n2");

        Assert.False(state.TryClaim(window: 2));
        Assert.True(state.Complete());
        Assert.Equal("n2", state.PendingName);
    }

    [Fact]
    public void TakePending_NamedThenUnnamedMarkWhileClaimed_TakesNameAndClearsDirty()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("goal");
        state.TryClaim(window: 1);

        state.TryMarkDirty(null); // a minute's turn while the claim waits for a slot

        Assert.Equal("goal", state.TakePending());
        Assert.Null(state.PendingName);
        Assert.False(state.Complete()); // the unnamed mark was coalesced into this computation
    }

    [Fact]
    public void TakePending_OnlyUnnamedMarks_Update()
    {
        var state = new TickerEventState();
        state.TryMarkDirty(null);
        state.TryClaim(window: 1);

        Assert.Equal(Notification.DatabaseEventName, state.TakePending());
    }

    [Fact]
    public void TakePending_UnnamedClaimThenNamedMarkBeforeTake_TakesName()
    {
        var state = new TickerEventState();
        state.TryMarkDirty(null);
        state.TryClaim(window: 1);

        state.TryMarkDirty("goal"); // a POST while the refresh's claim waits for a slot

        Assert.Equal("goal", state.TakePending());
        Assert.False(state.Complete());
    }

    [Fact]
    public void TakePending_NamedMarkAfterTake_LeftForTheNextComputation()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        state.TryClaim(window: 1);
        Assert.Equal("n1", state.TakePending());

        state.TryMarkDirty("n2");
        state.TryMarkDirty(null);

        Assert.True(state.Complete());
        Assert.True(state.TryClaim(window: 2));
        Assert.Equal("n2", state.TakePending());
        Assert.Null(state.PendingName);
    }

    [Fact]
    public void TakePending_AfterANamedComputation_NextUnnamedIsUpdate()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("goal");
        state.TryClaim(window: 1);
        state.TakePending();
        state.Complete();

        state.TryMarkDirty(null);
        state.TryClaim(window: 2);

        Assert.Equal(Notification.DatabaseEventName, state.TakePending());
    }

    [Fact]
    public void KeepDirty_FailedNamedComputation_NameRestoredUnlessNewerPending()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("goal");
        state.TryClaim(window: 1);
        string taken = state.TakePending();
        state.TryMarkDirty(null); // a minute's turn during the failed computation

        state.KeepDirty(taken);
        Assert.True(state.Complete());
        Assert.Equal("goal", state.PendingName);

        state.TryClaim(window: 2);
        taken = state.TakePending();
        state.TryMarkDirty("red card");
        state.KeepDirty(taken);

        Assert.Equal("red card", state.PendingName);
    }

    [Fact]
    public void TryMarkRemoved_DirtyOrRunningOrRecent_Refused()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        Assert.False(state.TryMarkRemoved(window: 1000, idleWindows: 120)); // dirty
        state.TryClaim(window: 1);
        Assert.False(state.TryMarkRemoved(window: 1000, idleWindows: 120)); // claimed
        state.TakePending();
        Assert.False(state.TryMarkRemoved(window: 1000, idleWindows: 120)); // running
        state.Complete();

        Assert.False(state.TryMarkRemoved(window: 120, idleWindows: 120)); // idle 119 windows
        Assert.True(state.TryMarkRemoved(window: 121, idleWindows: 120));
    }

    [Fact]
    public void TryMarkDirty_AfterRemoval_ReturnsFalse()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        state.TryClaim(window: 1);
        state.TakePending();
        state.Complete();
        Assert.True(state.TryMarkRemoved(window: 200, idleWindows: 120));

        Assert.False(state.TryMarkDirty("n2"));
        Assert.False(state.TryClaim(window: 201));
    }
}
