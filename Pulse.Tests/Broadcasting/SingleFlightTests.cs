using Pulse.Broadcasting;

namespace Pulse.Tests.Broadcasting;

public sealed class SingleFlightTests
{
    private readonly SingleFlight<Guid, string> _flight = new();
    private readonly Guid _key = Guid.NewGuid();

    [Fact]
    public async Task RunAsync_ConcurrentCallersOneKey_ShareOneComputation()
    {
        int computations = 0;
        var result = new TaskCompletionSource<string>();
        Task<string> Compute(Guid _)
        {
            Interlocked.Increment(ref computations);
            return result.Task;
        }

        var callers = Enumerable.Range(0, 100).Select(_ => _flight.RunAsync(_key, Compute, CancellationToken.None)).ToArray();
        result.SetResult("snapshot");

        Assert.All(await Task.WhenAll(callers), value => Assert.Equal("snapshot", value));
        Assert.Equal(1, computations);
        Assert.Equal(0, _flight.InFlightCount);
    }

    [Fact]
    public async Task RunAsync_DifferentKeys_ComputeSeparately()
    {
        var other = Guid.NewGuid();
        var pending = new TaskCompletionSource<string>();

        var first = _flight.RunAsync(_key, _ => pending.Task, CancellationToken.None);
        var second = await _flight.RunAsync(other, k => Task.FromResult(k.ToString()), CancellationToken.None);

        Assert.Equal(other.ToString(), second);
        Assert.False(first.IsCompleted);
        pending.SetResult("a");
        Assert.Equal("a", await first);
    }

    [Fact]
    public async Task RunAsync_ComputationFails_FailureSharedThenNotCached()
    {
        var failure = new TaskCompletionSource<string>();
        var a = _flight.RunAsync(_key, _ => failure.Task, CancellationToken.None);
        var b = _flight.RunAsync(_key, _ => Task.FromResult("never"), CancellationToken.None);
        failure.SetException(new TimeoutException());

        await Assert.ThrowsAsync<TimeoutException>(() => a);
        await Assert.ThrowsAsync<TimeoutException>(() => b);

        Assert.Equal("retried", await _flight.RunAsync(_key, _ => Task.FromResult("retried"), CancellationToken.None));
    }

    [Fact]
    public async Task RunAsync_ComputationThrowsSynchronously_CallerSeesFailure()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => _flight.RunAsync(_key, _ => throw new InvalidOperationException(), CancellationToken.None));

        Assert.Equal(0, _flight.InFlightCount);
    }

    [Fact]
    public async Task RunAsync_OneCallerCancels_OthersStillGetTheResult()
    {
        var result = new TaskCompletionSource<string>();
        using var cancel = new CancellationTokenSource();
        var leaving = _flight.RunAsync(_key, _ => result.Task, cancel.Token);
        var staying = _flight.RunAsync(_key, _ => Task.FromResult("never"), CancellationToken.None);

        await cancel.CancelAsync();
        result.SetResult("snapshot");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        Assert.Equal("snapshot", await staying);
    }
}
