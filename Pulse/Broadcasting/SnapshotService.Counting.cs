using Npgsql;
using Pulse.Diagnostics;
using Pulse.Storage;

namespace Pulse.Broadcasting;

/// <summary>
/// The counting side of the snapshot service (docs/design.md §18): each computation folds the links
/// committed since the previous one into the event's <see cref="CountingState"/>; a full read runs at
/// first use, when told (<see cref="RequireFull"/>, <see cref="RequireFullAll"/>), and as the periodic
/// verification, which also counts and repairs drift.
/// </summary>
// SemaphoreSlim only needs disposing once its AvailableWaitHandle was used; it never is (SnapshotService.cs).
#pragma warning disable CA1001
internal sealed partial class SnapshotService
#pragma warning restore CA1001
{
    /// <summary>How often a watched event's state is compared with a full read; zero: never.</summary>
    private readonly TimeSpan _verifyEvery = TimeSpan.FromSeconds(verifySeconds);

    /// <summary>
    /// A verification may take at most 1 % of the time: the next is due <see cref="_verifyEvery"/> or
    /// this many times the last full read's duration after it, whichever is later (a 10,000,000-link
    /// battle whose full read takes 10 s is verified every 1,000 s, not every minute).
    /// </summary>
    private const int VerifyDutyFactor = 100;

    // Set once a delta found no pulse_xact column: every computation then reads in full.
    private volatile bool _fullOnly;

    /// <summary>
    /// The next computation of <paramref name="eventId"/> reads every link again: links were deleted or
    /// updated (the trigger says so), which a delta cannot see.
    /// </summary>
    public void RequireFull(Guid eventId)
    {
        if (_entries.TryGetValue(eventId, out var entry))
        {
            Volatile.Write(ref entry.RequireFull, 1);
        }
    }

    /// <summary>Every held event's next computation is a full read (after the LISTEN connection came back).</summary>
    public void RequireFullAll()
    {
        foreach (var entry in _entries.Values)
        {
            Volatile.Write(ref entry.RequireFull, 1);
        }
    }

    /// <summary>
    /// Events whose counts need a full read at <paramref name="now"/> without waiting for a tweet: told
    /// to read in full (a repair notice), running and watched ones a period after their last full read,
    /// and any held one that ended after it (once, so the final numbers are verified; an ended battle
    /// then costs nothing more until someone notifies it).
    /// </summary>
    public IEnumerable<Guid> VerificationDue(DateTime now)
    {
        foreach (var (id, entry) in _entries)
        {
            if (entry.Counting is not { } counting)
            {
                continue;
            }

            var header = counting.Header;
            if (Volatile.Read(ref entry.RequireFull) == 1
                || (VerifyDue(entry, counting, now) && (header.EndAt <= now ? entry.VerifiedAt < header.EndAt : broadcaster.IsWatched(id))))
            {
                yield return id;
            }
        }
    }

    /// <summary>Counting records and bytes held over all events (the <c>pulse_counting_*</c> gauges).</summary>
    public (long Records, long Bytes) CountingTotals()
    {
        long records = 0, bytes = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.Counting is { } counting)
            {
                records += counting.Records;
                bytes += counting.Bytes;
            }
        }

        return (records, bytes);
    }

    // A computation of a started event verifies once a period has passed since the last full read (or
    // since a failed verification). Ended events are offered by VerificationDue once; after that a
    // notification's computation still verifies when the period has passed (spam deleted after the end).
    private bool VerifyDue(Entry entry, CountingState counting, DateTime now) =>
        _verifyEvery > TimeSpan.Zero && now >= entry.NextVerify && counting.Header.StartAt <= now;

    // A delta alone is one statement, shared with whatever other reads are due meanwhile (DeltaReads);
    // a header that changed is read again in full, in its own transaction.
    private async Task<CountingResult?> ReadDeltaAsync(Guid eventId, CountingState state, CancellationToken cancellationToken)
    {
        var outcomes = await _deltas.ReadAsync([(eventId, state)], cancellationToken);
        return outcomes[0] switch
        {
            DeltaOutcome.Folded => new CountingResult(state, Full: false, Drift: null),
            DeltaOutcome.Gone => null,
            _ => await FullReadAsync(eventId, null, false, state, cancellationToken),
        };
    }

    // A full read (or verification) holds one of the slots for its statement (the remarks of SnapshotService).
    private async Task<CountingResult?> FullReadAsync(Guid eventId, CountingState? state, bool verify, CountingState? sizeHint, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await CountingRead.ReadAsync(dataSource, eventId, state, verify, sizeHint, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    // Under the entry's gate.
    private async Task<ViewModel?> CountAsync(Guid eventId, Entry entry, DateTime now, CancellationToken cancellationToken)
    {
        // Taken and cleared at once: a repair notice that arrives after this point keeps the flag for the
        // next computation (this read's snapshot may predate the deletion it reports).
        bool full = Interlocked.Exchange(ref entry.RequireFull, 0) == 1 || _fullOnly;
        var state = full ? null : entry.Counting;
        bool verify = state is not null && VerifyDue(entry, state, now);
        CountingResult? result;
        long started = timeProvider.GetTimestamp();
        try
        {
            result = state is not null && !verify
                ? await ReadDeltaAsync(eventId, state, cancellationToken)
                : await FullReadAsync(eventId, state, verify, entry.Counting, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedColumn && state is not null)
        {
            // Served before `pulse migrate` added uniq_entry_keywords.pulse_xact (migration 005): exact
            // still, by reading every link each time, until the next start.
            _fullOnly = true;
            if (logger is not null)
            {
                BroadcastingLog.CountingWithoutMigration(logger);
            }

            result = await FullReadAsync(eventId, null, false, entry.Counting, cancellationToken);
        }
        catch
        {
            // A failed delta leaves the state as it was (folds are idempotent); a failed full read must run
            // again; a failed verification waits a period, so the deltas go on meanwhile.
            if (full)
            {
                Volatile.Write(ref entry.RequireFull, 1);
            }

            if (verify)
            {
                entry.NextVerify = now + _verifyEvery;
            }

            throw;
        }

        if (result is null)
        {
            return null; // the caller removes the entry, state and all
        }

        entry.Counting = result.State;
        if (result.Full)
        {
            var took = timeProvider.GetElapsedTime(started);
            entry.VerifiedAt = now;
            entry.NextVerify = now + TimeSpan.FromTicks(Math.Max(_verifyEvery.Ticks, took.Ticks * VerifyDutyFactor));
        }

        if (result.Drift is > 0 and long drift)
        {
            metrics.CountDrift(drift);
            if (logger is not null)
            {
                BroadcastingLog.CountsRepaired(logger, eventId, drift);
            }
        }

        return result.State.ToViewModel(eventId, now);
    }
}
