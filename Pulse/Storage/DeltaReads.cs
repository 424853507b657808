using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// Every delta read of the process goes through here (docs/design.md §18): while one grouped statement
/// (<see cref="CountingRead.GroupDeltaSql"/>) runs, the reads asked for meanwhile wait and then go
/// together as the next one, as a database's group commit does. An idle server reads at once; a burst of
/// leading edges (a flood starting on a hundred battles) or a tick's trailing edges cost one statement
/// per round trip, not one per battle.
/// </summary>
/// <remarks>
/// A caller holds its event's gate until its read completes (the statement folds into the caller's
/// state), so no event is asked for twice at once and a read is never abandoned half way: the statement
/// has no cancellation token, the command timeout bounds it.
/// </remarks>
internal sealed class DeltaReads(NpgsqlDataSource dataSource)
{
    private readonly Lock _lock = new();
    private List<Request> _queue = [];
    private bool _running;

    /// <summary>Statements run (for tests: a burst asked for together costs one).</summary>
    internal long Statements => Interlocked.Read(ref _statements);

    private long _statements;

    /// <summary>
    /// Brings each state (at most <see cref="CountingRead.MaxGroup"/>) up to date in the next grouped
    /// statement: folded in place, or left as it was when stale or gone (<see cref="DeltaOutcome"/>).
    /// </summary>
    public Task<DeltaOutcome[]> ReadAsync(IReadOnlyList<(Guid EventId, CountingState State)> states)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(states.Count, CountingRead.MaxGroup);
        var request = new Request(states);
        bool start;
        lock (_lock)
        {
            _queue.Add(request);
            start = !_running;
            _running = true;
        }

        if (start)
        {
            // Inline until the statement's first await, as every computation starts (Ticker remarks).
            _ = RunAsync();
        }

        return request.Done.Task;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            List<Request> batch;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _running = false;
                    return;
                }

                batch = Take();
            }

            var states = new List<(Guid EventId, CountingState State)>();
            foreach (var request in batch)
            {
                states.AddRange(request.States);
            }

            DeltaOutcome[] outcomes;
            try
            {
                Interlocked.Increment(ref _statements);
                outcomes = await CountingRead.ReadDeltasAsync(dataSource, states, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var request in batch)
                {
                    request.Done.TrySetException(e);
                }

                continue;
            }

            int offset = 0;
            foreach (var request in batch)
            {
                request.Done.TrySetResult(outcomes[offset..(offset + request.States.Count)]);
                offset += request.States.Count;
            }
        }
    }

    // Under _lock: whole requests, in order, up to MaxGroup events.
    private List<Request> Take()
    {
        int count = 0, taken = 0;
        while (taken < _queue.Count && count + _queue[taken].States.Count <= CountingRead.MaxGroup)
        {
            count += _queue[taken].States.Count;
            taken++;
        }

        List<Request> batch;
        if (taken == _queue.Count)
        {
            batch = _queue;
            _queue = [];
        }
        else
        {
            batch = _queue.GetRange(0, taken);
            _queue.RemoveRange(0, taken);
        }

        return batch;
    }

    private sealed class Request(IReadOnlyList<(Guid EventId, CountingState State)> states)
    {
        public IReadOnlyList<(Guid EventId, CountingState State)> States { get; } = states;

        // Completed off the statement's loop, so a caller's continuation never delays the next statement.
        public TaskCompletionSource<DeltaOutcome[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
