using System.Collections.Concurrent;

namespace Pulse.Broadcasting;

/// <summary>
/// Concurrent callers for one key share one in-flight computation: a reconnect storm of joins on an
/// event with nothing cached costs one query, not thousands. Only in-flight work is shared; the
/// result is not kept (caching is the caller's), and a failure reaches the callers that shared it,
/// then is forgotten, so the next caller tries again.
/// </summary>
/// <remarks>
/// Thread safety: every member is safe from any thread. The first caller of a key runs
/// <c>compute</c> inline until its first <c>await</c>; the computation gets no caller's token (one
/// caller giving up must not fail the others), each caller's token only ends its own wait.
/// </remarks>
internal sealed class SingleFlight<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Task<TValue>> _inFlight = new();

    /// <summary>Keys with a computation in flight.</summary>
    internal int InFlightCount => _inFlight.Count;

    /// <summary>Joins the computation in flight for <paramref name="key"/>, or starts one with <paramref name="compute"/>.</summary>
    public Task<TValue> RunAsync(TKey key, Func<TKey, Task<TValue>> compute, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compute);
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running))
            {
                return running.WaitAsync(cancellationToken);
            }

            // Continuations run asynchronously: completing the flight must not run every waiter's
            // continuation on the computing thread.
            var flight = new TaskCompletionSource<TValue>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, flight.Task))
            {
                _ = FlyAsync(key, flight, compute);
                return flight.Task.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task FlyAsync(TKey key, TaskCompletionSource<TValue> flight, Func<TKey, Task<TValue>> compute)
    {
        TValue value;
        try
        {
            value = await compute(key);
        }
        catch (Exception exception)
        {
            // Forget before failing the waiters: a caller that sees the failure and retries starts afresh.
            _inFlight.TryRemove(new KeyValuePair<TKey, Task<TValue>>(key, flight.Task));
            if (exception is OperationCanceledException canceled)
            {
                flight.TrySetCanceled(canceled.CancellationToken);
            }
            else
            {
                flight.TrySetException(exception);
            }

            return;
        }

        _inFlight.TryRemove(new KeyValuePair<TKey, Task<TValue>>(key, flight.Task));
        flight.TrySetResult(value);
    }
}
