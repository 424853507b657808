using Pulse.Diagnostics;

namespace Pulse.Broadcasting;

internal sealed partial class Ticker
{
    /// <summary>Starts the one timer loop of the process. Call once.</summary>
    public void Start()
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The ticker is already started.");
        }

        BroadcastingLog.TickerStarted(_logger, _periodMs);
        _loop = RunLoopAsync(_stopping.Token);
    }

    /// <summary>
    /// Stops the loop, cancels the token of running computations and waits for them to end. Dirty
    /// events stay dirty (nothing is computed any more).
    /// </summary>
    public Task StopAsync()
    {
        // Idempotent: DisposeAsync after StopAsync, or two shutdown paths, share one stop.
        lock (_stopLock)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        if (Volatile.Read(ref _inFlight) > 0)
        {
            await _drained.Task;
        }

        BroadcastingLog.TickerStopped(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    /// <summary>
    /// One window ends, the next begins: starts the trailing edge of every dirty event and forgets
    /// events idle for <see cref="IdleWindows"/> windows. Called by the timer loop; tests
    /// call it directly instead of waiting for the timer.
    /// </summary>
    public void OnTick()
    {
        long started = _timeProvider.GetTimestamp();

        // The dirty events are claimed for the new window before it opens: a notification that lands
        // meanwhile still sees the old window, in which these were computed (or are running), so it
        // cannot start one of them alone as a leading edge a moment before the group (one statement
        // more per tick in a flood over many events, measured). Only this method writes _window.
        long window = Volatile.Read(ref _window) + 1;
        List<(Guid EventId, TickerEventState State)>? claimed = null;
        List<(Guid EventId, TickerEventState State)>? running = null;
        foreach (var (eventId, state) in _states)
        {
            if (TryClaim(state, window))
            {
                (claimed ??= []).Add((eventId, state));
            }
            else if ((state.Flags & TickerEventState.Running) != 0)
            {
                (running ??= []).Add((eventId, state));
            }
            else if (state.TryMarkRemoved(window, IdleWindows))
            {
                _states.TryRemove(new KeyValuePair<Guid, TickerEventState>(eventId, state));
            }
        }

        Interlocked.Exchange(ref _window, window);

        // A computation running during the scan that ended, dirty, before the window opened asked for its
        // trailing edge in the old window, where it had run: declined. It is due now (a no-op for the
        // others: still running, or clean).
        foreach (var (eventId, state) in running ?? [])
        {
            TryStart(eventId, state);
        }

        // Started once the window is open, so none completes (and claims again) in the old one. One event
        // alone as a leading edge is; several as one group (one statement for their deltas).
        if (claimed is [var (id, one)])
        {
            _ = RunAsync(id, one);
        }
        else if (claimed is not null)
        {
            RunGroup(claimed);
        }

        // Computations run inline until their first await; one that blocks shows up here.
        var elapsed = _timeProvider.GetElapsedTime(started);
        if (elapsed > _period)
        {
            BroadcastingLog.TickOverran(_logger, elapsed.TotalMilliseconds, _periodMs);
        }
    }

    private async Task RunLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_period, _timeProvider);
        long previous = _timeProvider.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                // PeriodicTimer folds missed ticks into one; a gap of two periods means the loop woke
                // a whole window late (a starved thread pool), and that window's trailing edges with it.
                long now = _timeProvider.GetTimestamp();
                var late = _timeProvider.GetElapsedTime(previous, now) - _period;
                if (late >= _period)
                {
                    BroadcastingLog.TickLate(_logger, late.TotalMilliseconds, _periodMs);
                }

                previous = now;
                OnTick();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // StopAsync.
        }
    }
}
