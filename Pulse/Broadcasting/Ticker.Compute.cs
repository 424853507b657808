using Pulse.Diagnostics;

namespace Pulse.Broadcasting;

internal sealed partial class Ticker
{
    /// <summary>Claims the event for the current window and starts its computation; false when not due.</summary>
    private bool TryStart(Guid eventId, TickerEventState state)
    {
        if (!TryClaim(state))
        {
            return false;
        }

        _ = RunAsync(eventId, state);
        return true;
    }

    /// <summary>Claims the event for the current window (counted in flight); false when not due.</summary>
    private bool TryClaim(TickerEventState state) => TryClaim(state, Volatile.Read(ref _window));

    /// <summary>Claims the event for <paramref name="window"/> (counted in flight); false when not due.</summary>
    private bool TryClaim(TickerEventState state, long window)
    {
        // The flood path: an event already running or computed this window costs two reads.
        if (!state.IsClaimable(window))
        {
            return false;
        }

        // Counted before the stopping check, so StopAsync either sees this computation or stops it.
        Interlocked.Increment(ref _inFlight);
        if (_stopping.IsCancellationRequested || !state.TryClaim(window))
        {
            LeaveInFlight();
            return false;
        }

        return true;
    }

    /// <summary>
    /// The trailing edges of one tick, claimed together and handed over as one group (one statement for
    /// every event whose counts need only a delta); each event completes on its own, as in <see cref="RunAsync"/>.
    /// The computation's own slots bound the database work.
    /// </summary>
    private void RunGroup(List<(Guid EventId, TickerEventState State)> claimed)
    {
        var events = new (Guid EventId, string EventName)[claimed.Count];
        for (int i = 0; i < claimed.Count; i++)
        {
            events[i] = (claimed[i].EventId, claimed[i].State.TakePending());
        }

        IReadOnlyList<Task> computations;
        try
        {
            computations = _computation.ComputeMany(events, _stopping.Token);
        }
        catch (Exception exception)
        {
            computations = Enumerable.Repeat(Task.FromException(exception), claimed.Count).ToArray();
        }

        for (int i = 0; i < claimed.Count; i++)
        {
            _ = CompleteAsync(claimed[i].EventId, claimed[i].State, events[i].EventName, computations[i]);
        }
    }

    private async Task CompleteAsync(Guid eventId, TickerEventState state, string name, Task computation)
    {
        bool dirty;
        try
        {
            await computation;
            if (_failureLog.Recovered(out long failures))
            {
                BroadcastingLog.ComputationsRecovered(_logger, failures);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            state.KeepDirty(name);
        }
        catch (Exception exception)
        {
            state.KeepDirty(name);
            ReportFailure(eventId, exception);
        }
        finally
        {
            dirty = state.Complete();
            LeaveInFlight();
        }

        if (dirty)
        {
            TryStart(eventId, state);
        }
    }

    /// <summary>
    /// One claimed event alone (a leading edge, or a trailing edge that outlived its window): takes the
    /// pending name and starts the computation at once, as <see cref="RunGroup"/> does for many.
    /// </summary>
    private Task RunAsync(Guid eventId, TickerEventState state)
    {
        string name = state.TakePending();
        Task computation;
        try
        {
            computation = _computation.ComputeAsync(eventId, name, _stopping.Token);
        }
        catch (Exception exception)
        {
            computation = Task.FromException(exception);
        }

        return CompleteAsync(eventId, state, name, computation);
    }

    private void ReportFailure(Guid eventId, Exception exception)
    {
        // While the database is down every tick fails for every dirty event: one line, then one per interval.
        if (_failureLog.ShouldLog(out long suppressed))
        {
            BroadcastingLog.ComputationFailed(_logger, eventId, suppressed, exception);
        }
    }

    private void LeaveInFlight()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _stopping.IsCancellationRequested)
        {
            _drained.TrySetResult();
        }
    }
}
