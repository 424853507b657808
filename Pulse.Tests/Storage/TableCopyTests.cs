using Pulse.Tests.Broadcasting;

namespace Pulse.Tests.Storage;

/// <summary>
/// The re-read rules of <see cref="TableCopy{T}"/> on fake time and a fake table: misses at most one
/// read a second, one read at a time with exactly one queued, failures back off and keep the copy.
/// </summary>
[Trait("Category", "unit")] public sealed class TableCopyTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 20, 0, 0, TimeSpan.Zero));
    private readonly FakeTable _table = new();
    private readonly ListLogger _logger = new();
    private readonly TableCopy<string> _copy;

    public TableCopyTests() => _copy = new TableCopy<string>("things", _table.ReadAsync, _time, _logger);

    public ValueTask DisposeAsync() => _copy.DisposeAsync();

    [Fact]
    public async Task MissAsync_ThousandMissesWithinASecond_OneReadThenNextAtOneSecond()
    {
        Assert.True(await _copy.LoadAsync());
        Assert.True(await _copy.MissAsync(CancellationToken.None));
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(await _copy.MissAsync(CancellationToken.None));
        }

        Assert.Equal(2, _table.Calls);

        // N-1: 999 ms after the miss that read, a miss reads nothing.
        _time.Advance(TimeSpan.FromMilliseconds(999));
        await _copy.MissAsync(CancellationToken.None);
        Assert.Equal(2, _table.Calls);

        // N: a second after it, one read, which the miss waits for.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _copy.MissAsync(CancellationToken.None);
        Assert.Equal(3, _table.Calls);
        Assert.Equal("v3", _copy.Current);
    }

    [Fact]
    public async Task Invalidate_TenTimesDuringARead_ExactlyOneMoreRead()
    {
        _table.Hold();
        _copy.Invalidate();
        await _table.WaitStartedAsync(1);
        for (int i = 0; i < 10; i++)
        {
            _copy.Invalidate();
        }

        _table.Release();
        await _copy.WhenIdle();
        Assert.Equal(2, _table.Calls);
        Assert.Equal("v2", _copy.Current);
    }

    [Fact]
    public async Task MissAsync_WhileAnOlderReadRuns_WaitsForAReadStartedAfterIt()
    {
        Assert.True(await _copy.LoadAsync());
        _table.Hold();
        _copy.Invalidate();
        await _table.WaitStartedAsync(2);

        // Read 2 started before the miss: a row committed in between would not be in it.
        var miss = _copy.MissAsync(CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(miss.IsCompleted);
        _table.Release();

        Assert.True(await miss);
        Assert.Equal(3, _table.Calls);
        Assert.Equal("v3", _copy.Current);
    }

    [Fact]
    public async Task Failures_ReadsOnDemandBackOffOneTwoFourEightSeconds_CopyKept()
    {
        Assert.True(await _copy.LoadAsync());
        _table.Failing = true;
        var starts = new List<double>();
        int seen = _table.Calls;

        // 25 s of a miss and a hit every 100 ms while every read fails.
        for (int step = 1; step <= 250; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            _copy.Touch();
            Assert.False(await _copy.MissAsync(CancellationToken.None));
            await _copy.WhenIdle();
            if (_table.Calls != seen)
            {
                starts.Add(step / 10.0);
                seen = _table.Calls;
            }

            Assert.Equal("v1", _copy.Current);
        }

        // The first at 0.1 s, then backoffs of 1, 2, 4, 8, 8 s.
        Assert.Equal([0.1, 1.1, 3.1, 7.1, 15.1, 23.1], starts);
        Assert.Equal([1000], _logger.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Invalidate_WhileBackingOff_ReadsAtOnceAndLogsRecovery()
    {
        Assert.True(await _copy.LoadAsync());
        _table.Failing = true;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await _copy.MissAsync(CancellationToken.None));

        // Backing off for 1 s now, but the LISTEN connection's return means the database answers.
        _table.Failing = false;
        _copy.Invalidate();
        await _copy.WhenIdle();

        Assert.Equal(3, _table.Calls);
        Assert.Equal("v3", _copy.Current);
        Assert.Equal([1000, 1001], _logger.Events.Select(e => e.Id));
        Assert.True(await _copy.MissAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 3)]
    public async Task Read_FailsWithAnotherQueued_QueuedRunsOnlyWhenAskedByInvalidate(bool invalidateWhileRunning, int reads)
    {
        Assert.True(await _copy.LoadAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        _table.Failing = true;
        _table.Hold();
        _copy.Invalidate();
        await _table.WaitStartedAsync(2);

        // A miss queues a read behind the running one (the database was fine at the last read).
        var miss = _copy.MissAsync(CancellationToken.None).AsTask();
        if (invalidateWhileRunning)
        {
            _copy.Invalidate();
        }

        _table.Release();
        Assert.False(await miss);
        await _copy.WhenIdle();
        Assert.Equal(reads, _table.Calls);
        Assert.Equal("v1", _copy.Current);
    }

    [Fact]
    public async Task MissAsync_NeverRead_UntrustedAndNoCopy()
    {
        _table.Failing = true;
        Assert.False(await _copy.LoadAsync());
        Assert.False(await _copy.MissAsync(CancellationToken.None));
        Assert.Null(_copy.Current);
        Assert.Equal([1002], _logger.Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Touch_HitsEvery10Ms_OneBackgroundReadPerSecondOfCopyAge()
    {
        Assert.True(await _copy.LoadAsync());

        // N-1: a copy 999 ms old is fresh.
        _time.Advance(TimeSpan.FromMilliseconds(999));
        _copy.Touch();
        Assert.Equal(1, _copy.Reads);

        // N: at 1 s the hit starts a read and does not wait for it; a second hit starts no other.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        _table.Hold();
        _copy.Touch();
        _copy.Touch();
        Assert.Equal(2, _copy.Reads);
        _table.Release();
        await _copy.WhenIdle();

        // 10 s of hits every 10 ms: one read a second.
        for (int i = 0; i < 1000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10));
            _copy.Touch();
            await _copy.WhenIdle();
        }

        Assert.Equal(12, _copy.Reads);
        Assert.Equal(12, _table.Calls);
    }

    [Fact]
    public void Backoff_Sequence_DoublesFromOneSecondToEight()
    {
        Assert.Equal([1, 2, 4, 8, 8, 8], Enumerable.Range(1, 6).Select(f => TableCopy<string>.Backoff(f).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(8), TableCopy<string>.Backoff(int.MaxValue));
    }

    /// <summary>A table whose reads return "v&lt;n&gt;" (n-th read), can be held at their start, or fail.</summary>
    private sealed class FakeTable
    {
        private volatile TaskCompletionSource? _gate;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public volatile bool Failing;

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate?.TrySetResult();

        public async Task<string> ReadAsync(CancellationToken cancellationToken)
        {
            int n = Interlocked.Increment(ref _calls);
            if (_gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            return Failing ? throw new InvalidOperationException("the database is down") : $"v{n}";
        }

        public async Task WaitStartedAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Calls < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"read {count} never started");
                await Task.Delay(5);
            }
        }
    }
}
