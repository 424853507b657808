using Pulse.Broadcasting;

namespace Pulse.Tests.Broadcasting;

public sealed class TickerEventStateTests
{
    [Fact]
    public void TryClaim_TwiceInOneWindow_SecondRefused()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        Assert.True(state.TryClaim(window: 1));
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

        state.TryMarkDirty("n2");

        Assert.False(state.TryClaim(window: 2));
        Assert.True(state.Complete());
        Assert.Equal("n2", state.LatestName);
    }

    [Fact]
    public void TryMarkRemoved_DirtyOrRunningOrRecent_Refused()
    {
        var state = new TickerEventState();
        state.TryMarkDirty("n1");
        Assert.False(state.TryMarkRemoved(window: 1000, idleWindows: 120)); // dirty
        state.TryClaim(window: 1);
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
        state.Complete();
        Assert.True(state.TryMarkRemoved(window: 200, idleWindows: 120));

        Assert.False(state.TryMarkDirty("n2"));
        Assert.False(state.TryClaim(window: 201));
    }
}
