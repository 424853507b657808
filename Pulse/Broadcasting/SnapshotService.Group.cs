using Npgsql;
using Pulse.Storage;

namespace Pulse.Broadcasting;

/// <summary>
/// Grouped computations (docs/design.md §8, §18): the events due at one tick whose states only need a
/// delta are read together (<see cref="DeltaReads"/>; 256 at most): one statement for all whose last
/// snapshots lie within <see cref="CountingRead.MaxCoveringLag"/> of each other, which at a tick is all of
/// them, so a tick costs the database one statement however many battles run.
/// </summary>
// SemaphoreSlim only needs disposing once its AvailableWaitHandle was used; it never is (SnapshotService.cs).
#pragma warning disable CA1001
internal sealed partial class SnapshotService
#pragma warning restore CA1001
{
    /// <inheritdoc />
    public IReadOnlyList<Task> ComputeMany(IReadOnlyList<(Guid EventId, string EventName)> events, CancellationToken cancellationToken)
    {
        var tasks = new Task[events.Count];

        // Gates taken without waiting: an event a reader is computing, or one that needs a full read, is
        // computed on its own, beside the group.
        var group = new List<Member>();
        var now = timeProvider.GetUtcNow().UtcDateTime;
        for (int i = 0; i < events.Count; i++)
        {
            var (eventId, eventName) = events[i];
            var entry = _entries.GetOrAdd(eventId, static _ => new Entry());
            if (!entry.Gate.Wait(0, CancellationToken.None))
            {
                tasks[i] = ComputeAsync(eventId, eventName, cancellationToken);
                continue;
            }

            if (entry.Removed || _fullOnly || entry.Counting is not { } state || Volatile.Read(ref entry.RequireFull) == 1 || VerifyDue(entry, state, now))
            {
                entry.Gate.Release();
                tasks[i] = ComputeAsync(eventId, eventName, cancellationToken);
                continue;
            }

            var member = new Member(eventId, eventName, entry);
            group.Add(member);
            tasks[i] = member.Done.Task;
        }

        for (int start = 0; start < group.Count; start += CountingRead.MaxGroup)
        {
            _ = ComputeGroupAsync(group.GetRange(start, Math.Min(CountingRead.MaxGroup, group.Count - start)), now, cancellationToken);
        }

        return tasks;
    }

    // Holds the gate of every member and releases each as soon as its event is published; completes each
    // member's task. Never throws: a failure is each member's.
    private async Task ComputeGroupAsync(List<Member> members, DateTime now, CancellationToken cancellationToken)
    {
        DeltaOutcome[] outcomes;
        try
        {
            var states = new (Guid EventId, CountingState State)[members.Count];
            for (int m = 0; m < members.Count; m++)
            {
                states[m] = (members[m].EventId, members[m].Entry.Counting!);
            }

            long started = timeProvider.GetTimestamp();
            try
            {
                outcomes = await _deltas.ReadAsync(states, cancellationToken);
            }
            finally
            {
                metrics.Computed(timeProvider.GetElapsedTime(started));
            }
        }
        catch (Exception e)
        {
            if (e is NpgsqlException or TimeoutException)
            {
                metrics.DatabaseError();
            }

            // Served before `pulse migrate` added pulse_xact: each alone, which switches to full reads (5008).
            bool alone = e is PostgresException { SqlState: PostgresErrorCodes.UndefinedColumn };
            foreach (var member in members)
            {
                member.Entry.Gate.Release();
                if (alone)
                {
                    member.Follow(ComputeAsync(member.EventId, member.EventName, cancellationToken));
                }
                else
                {
                    member.Done.TrySetException(e);
                }
            }

            return;
        }

        for (int m = 0; m < members.Count; m++)
        {
            var member = members[m];
            var entry = member.Entry;
            try
            {
                switch (outcomes[m])
                {
                    case DeltaOutcome.Gone:
                        Remove(member.EventId, entry);
                        break;
                    case DeltaOutcome.Stale:
                        // The keywords or the window changed: a full read, on its own.
                        Volatile.Write(ref entry.RequireFull, 1);
                        break;
                    default:
                        var (published, changed) = Publish(member.EventId, entry, entry.Counting!.ToViewModel(member.EventId, now));
                        if (changed)
                        {
                            broadcaster.Broadcast(member.EventName, published!);
                        }

                        break;
                }
            }
            catch (Exception e)
            {
                member.Done.TrySetException(e);
                continue;
            }
            finally
            {
                entry.Gate.Release();
            }

            if (outcomes[m] == DeltaOutcome.Stale)
            {
                member.Follow(ComputeAsync(member.EventId, member.EventName, cancellationToken));
            }
            else
            {
                member.Done.TrySetResult();
            }
        }
    }

    private sealed class Member(Guid eventId, string eventName, Entry entry)
    {
        public Guid EventId { get; } = eventId;

        public string EventName { get; } = eventName;

        public Entry Entry { get; } = entry;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Follow(Task computation) => _ = FollowAsync(computation);

        private async Task FollowAsync(Task computation)
        {
            try
            {
                await computation;
                Done.TrySetResult();
            }
            catch (OperationCanceledException e)
            {
                Done.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                Done.TrySetException(e);
            }
        }
    }
}
