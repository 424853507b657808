using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// Every delta read of the process goes through here (docs/design.md §18): while one grouped statement
/// (<see cref="CountingRead.GroupDeltaSql"/>) runs, the reads asked for meanwhile wait and then go
/// together as the next round, as a database's group commit does. An idle server reads at once; a burst
/// of leading edges (a flood starting on a hundred battles) or a tick's trailing edges cost one statement
/// per round trip, not one per battle. A round holds at most <see cref="CountingRead.MaxGroup"/> events,
/// in one statement per group of snapshots within <see cref="CountingRead.MaxCoveringLag"/> of each other
/// (one, unless a state was read long before the others).
/// </summary>
/// <remarks>
/// A caller holds its event's gate until its read completes (the statement folds into the caller's
/// state), so no event is asked for twice at once. A read still queued can be cancelled (it has touched
/// nothing); once its round has started it runs to the end: the statement has no cancellation token, the
/// command timeout bounds it. A failed round fails each of its reads with the error; every state is
/// still exact for its old snapshot or a newer one (folds are idempotent), so each is simply read again.
/// </remarks>
internal sealed class DeltaReads(NpgsqlDataSource dataSource)
{
    private readonly Lock _lock = new();
    private List<Request> _queue = [];
    private bool _running;
    private long _statements;

    /// <summary>Statements run (for tests: a burst asked for together costs one).</summary>
    internal long Statements => Interlocked.Read(ref _statements);

    /// <summary>
    /// Brings each state (at most <see cref="CountingRead.MaxGroup"/>) up to date in the next round:
    /// folded in place, or left as it was when stale or gone (<see cref="DeltaOutcome"/>).
    /// <paramref name="cancellationToken"/> cancels the read only while it waits for its round.
    /// </summary>
    public Task<DeltaOutcome[]> ReadAsync(IReadOnlyList<(Guid EventId, CountingState State)> states, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(states.Count, CountingRead.MaxGroup);
        var request = new Request(this, states);

        // Registered before the request is queued, so the round that takes it always disposes it (a
        // registration on the process-long stopping token must not outlive its read).
        if (cancellationToken.CanBeCanceled)
        {
            request.Cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Request)state!).Owner.Cancel((Request)state, token), request);
        }

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

    private void Cancel(Request request, CancellationToken token)
    {
        lock (_lock)
        {
            if (!_queue.Remove(request))
            {
                return; // its round has started
            }
        }

        request.Done.TrySetCanceled(token);
    }

    private async Task RunAsync()
    {
        while (true)
        {
            List<Request> round;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _running = false;
                    return;
                }

                round = Take();
            }

            try
            {
                await ReadRoundAsync(round);
            }
            catch (Exception e)
            {
                foreach (var request in round)
                {
                    request.Done.TrySetException(e);
                }
            }
            finally
            {
                foreach (var request in round)
                {
                    request.Cancellation.Dispose();
                }
            }
        }
    }

    // One statement per group of near snapshots (usually one); then each request gets its outcomes.
    private async Task ReadRoundAsync(List<Request> round)
    {
        var states = new List<(Guid EventId, CountingState State)>();
        foreach (var request in round)
        {
            states.AddRange(request.States);
        }

        var outcomes = new DeltaOutcome[states.Count];
        foreach (var group in CountingRead.ByLag(states.Select(s => s.State.Snapshot).ToList()))
        {
            Interlocked.Increment(ref _statements);
            var read = await CountingRead.ReadDeltasAsync(dataSource, group.Select(i => states[i]).ToList(), CancellationToken.None).ConfigureAwait(false);
            for (int g = 0; g < group.Count; g++)
            {
                outcomes[group[g]] = read[g];
            }
        }

        int offset = 0;
        foreach (var request in round)
        {
            request.Done.TrySetResult(outcomes[offset..(offset + request.States.Count)]);
            offset += request.States.Count;
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

        List<Request> round;
        if (taken == _queue.Count)
        {
            round = _queue;
            _queue = [];
        }
        else
        {
            round = _queue.GetRange(0, taken);
            _queue.RemoveRange(0, taken);
        }

        return round;
    }

    private sealed class Request(DeltaReads owner, IReadOnlyList<(Guid EventId, CountingState State)> states)
    {
        public DeltaReads Owner { get; } = owner;

        public IReadOnlyList<(Guid EventId, CountingState State)> States { get; } = states;

        // Completed off the statement's loop, so a caller's continuation never delays the next round.
        public TaskCompletionSource<DeltaOutcome[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Cancels the request while it is queued; disposed by the round that takes it.
        public CancellationTokenRegistration Cancellation { get; set; }
    }
}
