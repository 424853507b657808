using System.Diagnostics;

namespace Pulse.LoadTests.Runner;

/// <summary>
/// NBomber's two load shapes: inject a rate for a duration (open model: arrivals do not wait
/// for earlier requests), and keep N copies busy for a duration (closed model).
/// Both are bounded in count and time.
/// </summary>
internal static class LoadSimulation
{
    /// <summary>
    /// Starts <paramref name="action"/> <c>rate × duration</c> times at even spacing, at most
    /// <paramref name="maxInFlight"/> at once (a late server makes the tool wait rather than
    /// pile up unbounded tasks), then waits for all of them.
    /// </summary>
    public static async Task InjectAsync(
        double rate, TimeSpan duration, int maxInFlight, Func<long, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        long total = Math.Max(1, (long)Math.Round(rate * duration.TotalSeconds));
        using var inFlight = new SemaphoreSlim(maxInFlight, maxInFlight);
        var running = new List<Task>();
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            TimeSpan due = TimeSpan.FromSeconds(i / rate);
            TimeSpan wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }

            await inFlight.WaitAsync(cancellationToken);
            long sequence = i;
            running.Add(RunAsync(sequence));
            if (running.Count >= 4096)
            {
                running.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(running);

        async Task RunAsync(long sequence)
        {
            try
            {
                await action(sequence, cancellationToken);
            }
            finally
            {
                inFlight.Release();
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="copies"/> loops of <paramref name="action"/> until
    /// <paramref name="duration"/> passes or <paramref name="maxIterationsPerCopy"/> is reached.
    /// </summary>
    public static async Task KeepConstantAsync(
        int copies, TimeSpan duration, long maxIterationsPerCopy, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(duration);
        var loops = Enumerable.Range(0, copies).Select(async _ =>
        {
            await Task.Yield();
            for (long i = 0; i < maxIterationsPerCopy && !deadline.IsCancellationRequested; i++)
            {
                await action(deadline.Token);
            }
        });
        await Task.WhenAll(loops);
    }
}
