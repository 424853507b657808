using System.Collections.Concurrent;
using Npgsql;
using Pulse.Diagnostics;
using Pulse.Storage;

namespace Pulse.Broadcasting;

/// <summary>
/// Owns the cached snapshot of every event someone asked about, and the one way to refresh it:
/// <see cref="ComputeAsync"/> (called by the ticker), which publishes through the <see cref="IBroadcaster"/>. Readers never query while a snapshot is
/// cached; with none cached, concurrent readers share one computation. An id the
/// <see cref="EventCatalog"/> does not know is answered "no such event" without a statement.
/// </summary>
/// <remarks>
/// <para><b>Concurrency bound.</b> Every full read (an event's first, a verification, a repair), a
/// tick's or a reader's, takes one of <c>Broadcast:MaxConcurrentComputations</c> slots, so a burst of
/// cold joins of many events (a reconnect after a deploy) queues behind that bound instead of taking
/// every pooled connection, which the key and event catalogs and <c>/readyz</c> need too. Delta reads
/// take none: they all go through <see cref="DeltaReads"/>, one statement at a time,
/// the reads asked for meanwhile together, so a burst of leading edges over a hundred battles costs a
/// couple of statements and no battle waits behind another's slot.</para>
/// <para><b>Thread safety.</b> All members may be called concurrently. Computations of one event are
/// serialized by the ticker; every computation also takes the entry's gate, so a reader's
/// first computation and a tick never interleave their version updates, and broadcasts leave in
/// version order (published under the gate; a fan-out is offers only, no I/O). An entry leaves the
/// dictionary only under its gate, marked removed: a caller that waited on a removed entry's gate
/// starts over with the current one, so one event never has two version sequences at once.</para>
/// </remarks>
// SemaphoreSlim only needs disposing once its AvailableWaitHandle was used; it never is here.
#pragma warning disable CA1001
internal sealed partial class SnapshotService(NpgsqlDataSource dataSource, EventCatalog catalog, TimeProvider timeProvider, int maxConcurrentComputations, IBroadcaster broadcaster, PulseMetrics metrics, int verifySeconds = 60, Microsoft.Extensions.Logging.ILogger? logger = null) : ISnapshotProvider, ISnapshotComputation
#pragma warning restore CA1001
{
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    // The slots of full reads, ticks' and readers' alike (see the remarks); waited on under an entry's
    // gate, so one event still never has two computations at once.
    private readonly SemaphoreSlim _slots = new(maxConcurrentComputations, maxConcurrentComputations);

    // Every delta read, alone or grouped: one statement at a time, the reads asked for meanwhile together.
    private readonly DeltaReads _deltas = new(dataSource);

    /// <summary>Grouped delta statements run; for tests.</summary>
    internal long DeltaStatements => _deltas.Statements;

    /// <summary>Entries held (cached, forgotten or being computed); for tests of memory bounds.</summary>
    internal int EntryCount => _entries.Count;

    /// <inheritdoc />
    public async ValueTask<Snapshot?> GetAsync(Guid eventId, CancellationToken cancellationToken)
    {
        // Asked first, cached or not: a deleted event is not found even while its snapshot is still held,
        // and an id that is no event leaves no entry behind.
        if (!await catalog.ExistsAsync(eventId, cancellationToken))
        {
            return null;
        }

        var entry = _entries.GetOrAdd(eventId, static _ => new Entry());
        var snapshot = entry.Snapshot;
        if (snapshot is not null)
        {
            entry.LastRead = timeProvider.GetTimestamp();
            return snapshot;
        }

        // Single flight: the first reader starts the computation, the others await the same task.
        Task<Snapshot?> first;
        lock (entry)
        {
            first = entry.FirstComputation ?? ComputeForReaderAsync(eventId, entry);

            // One that finished inline already cleared the field; kept, it would answer every later reader.
            entry.FirstComputation = first.IsCompleted ? null : first;
        }

        var computed = await first.WaitAsync(cancellationToken);

        // A tick may have cached (and broadcast) a newer snapshot since the shared computation ended:
        // a join replying with the older one would put the screen behind a broadcast it already got.
        return computed is not null && entry.Snapshot is { } newer && newer.Version > computed.Version ? newer : computed;
    }

    /// <summary>The cached snapshot, if any; never queries.</summary>
    public Snapshot? Peek(Guid eventId) => _entries.TryGetValue(eventId, out var entry) ? entry.Snapshot : null;

    /// <summary>Events with a cached snapshot: id, window, and when a reader last took it.</summary>
    public IEnumerable<(Guid EventId, DateTime StartAt, DateTime EndAt, long LastRead)> Cached()
    {
        foreach (var (id, entry) in _entries)
        {
            if (entry.Model is { } model && entry.Snapshot is not null)
            {
                yield return (id, model.StartAt, model.EndAt, entry.LastRead);
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyCollection<Guid> HeldEvents()
    {
        var held = new HashSet<Guid>(broadcaster.WatchedEvents());
        foreach (var cached in Cached())
        {
            held.Add(cached.EventId);
        }

        return held;
    }

    /// <inheritdoc />
    Task ISnapshotComputation.ComputeAsync(Guid eventId, string eventName, CancellationToken cancellationToken) =>
        ComputeAsync(eventId, eventName, cancellationToken);

    /// <summary>
    /// Computes the event's numbers now; when they changed, gives the snapshot a new version, caches
    /// it and publishes it under <paramref name="eventName"/>. Returns false when the event does not exist.
    /// </summary>
    public async Task<bool> ComputeAsync(Guid eventId, string eventName, CancellationToken cancellationToken)
    {
        var (snapshot, _) = await ComputeIntoAsync(eventId, null, eventName, cancellationToken);
        return snapshot is not null;
    }

    /// <summary>
    /// Drops the cached view model of an event idle for long (its bytes are the cost). The entry keeps
    /// its version, so the next computation continues it instead of starting again at 1 (docs/design.md §5:
    /// versions only grow). Skipped while a computation holds the entry; the caller tries again later.
    /// </summary>
    public void Forget(Guid eventId)
    {
        if (!_entries.TryGetValue(eventId, out var entry) || !entry.Gate.Wait(0))
        {
            return;
        }

        entry.Snapshot = null;
        entry.Model = null;
        entry.Counting = null;
        entry.Gate.Release();
    }

    private async Task<Snapshot?> ComputeForReaderAsync(Guid eventId, Entry entry)
    {
        try
        {
            var (snapshot, _) = await ComputeIntoAsync(eventId, entry, Notification.DatabaseEventName, CancellationToken.None);
            return snapshot;
        }
        finally
        {
            lock (entry)
            {
                entry.FirstComputation = null;
            }
        }
    }

    /// <summary>
    /// Under the entry's gate: computes, versions and caches. With <paramref name="readerEntry"/> (a
    /// reader found nothing cached there), a snapshot a tick cached meanwhile is returned without a
    /// query: a reader's query would cache a newer version that nobody broadcasts.
    /// </summary>
    private async Task<(Snapshot? Snapshot, bool Changed)> ComputeIntoAsync(Guid eventId, Entry? readerEntry, string eventName, CancellationToken cancellationToken)
    {
        bool reader = readerEntry is not null;
        var entry = readerEntry ?? _entries.GetOrAdd(eventId, static _ => new Entry());
        while (true)
        {
            await entry.Gate.WaitAsync(cancellationToken);
            try
            {
                if (!entry.Removed)
                {
                    if (reader && entry.Snapshot is { } cached)
                    {
                        return (cached, false);
                    }

                    var (snapshot, changed) = await ComputeLockedAsync(eventId, entry, cancellationToken);

                    // Published under the gate, so broadcasts of one event reach the latest-only slots in
                    // version order (an older one offered last would replace a newer one unwritten). A
                    // reader's first version is the join replies' own; a later one (after Forget) may
                    // be newer than what subscribers of then hold, so they get it too.
                    if (changed && (!reader || snapshot!.Version > 1))
                    {
                        broadcaster.Broadcast(eventName, snapshot!);
                    }

                    return (snapshot, changed);
                }
            }
            finally
            {
                entry.Gate.Release();
            }

            // Removed while this caller waited: computing into it would start a second version sequence.
            entry = _entries.GetOrAdd(eventId, static _ => new Entry());
        }
    }

    private async Task<(Snapshot? Snapshot, bool Changed)> ComputeLockedAsync(Guid eventId, Entry entry, CancellationToken cancellationToken)
    {
        long started = timeProvider.GetTimestamp();
        var now = timeProvider.GetUtcNow().UtcDateTime;
        ViewModel? model;
        try
        {
            model = await CountAsync(eventId, entry, now, cancellationToken);
        }
        catch (Exception e)
        {
            if (e is NpgsqlException or TimeoutException)
            {
                metrics.DatabaseError();
            }

            // An id never computed (random ids while the database fails) must not stay behind.
            if (entry.Version == 0)
            {
                Remove(eventId, entry);
            }

            throw;
        }
        finally
        {
            metrics.Computed(timeProvider.GetElapsedTime(started));
        }

        if (model is null)
        {
            Remove(eventId, entry);
            return (null, false);
        }

        return Publish(eventId, entry, model);
    }

    /// <summary>Under the entry's gate: a new version for a changed model (the caller broadcasts it).</summary>
    private (Snapshot? Snapshot, bool Changed) Publish(Guid eventId, Entry entry, ViewModel model)
    {
        if (model.SameAs(entry.Model) && entry.Snapshot is not null)
        {
            return (entry.Snapshot, false);
        }

        long version = ++entry.Version;
        var snapshot = new Snapshot(eventId, version, ViewModelJson.Serialize(model, version, timeProvider.GetUtcNow().UtcDateTime)) { Name = model.Name };
        entry.Model = model;
        entry.Snapshot = snapshot;
        entry.LastRead = timeProvider.GetTimestamp();
        return (snapshot, true);
    }

    /// <summary>Under the entry's gate: takes this very entry out (a newer one stays).</summary>
    private void Remove(Guid eventId, Entry entry)
    {
        entry.Removed = true;
        entry.Snapshot = null;
        entry.Counting = null;
        _entries.TryRemove(new KeyValuePair<Guid, Entry>(eventId, entry));
    }

    // SemaphoreSlim only needs disposing once its AvailableWaitHandle was used; it never is here.
#pragma warning disable CA1001
    private sealed class Entry
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public volatile Snapshot? Snapshot;
        public ViewModel? Model;

        // The last version handed out; written under Gate. Survives Forget, so versions only grow.
        public long Version;

        // Set under Gate when the entry left the dictionary; waiters on Gate then take the current one.
        public bool Removed;
        public Task<Snapshot?>? FirstComputation;
        public long LastRead;

        // The counting state (docs/design.md §18), written under Gate; null until the first read and after
        // Forget. RequireFull: the next read must be a full one (links were deleted or updated, or
        // notifications may have been missed). VerifiedAt: when the last full read ran; NextVerify: when
        // the periodic verification is due again.
        public CountingState? Counting;
        public int RequireFull;
        public DateTime VerifiedAt;
        public DateTime NextVerify;
    }
#pragma warning restore CA1001
}
