using System.Collections.Concurrent;
using Npgsql;
using Pulse.Http;
using Pulse.Storage;

namespace Pulse.Broadcasting;

/// <summary>
/// Owns the cached snapshot of every event someone asked about, and the one way to refresh it:
/// <see cref="ComputeAsync"/> (called by the ticker). Readers never query while a snapshot is
/// cached; with none cached, concurrent readers share one computation.
/// </summary>
/// <remarks>
/// Thread safety: all members may be called concurrently. Computations of one event are
/// serialized by the ticker; <see cref="ComputeAsync"/> also takes the entry's lock so a reader's
/// first computation and a tick never interleave their version updates.
/// </remarks>
internal sealed class SnapshotService(NpgsqlDataSource dataSource, TimeProvider timeProvider, Action<string, Snapshot> publish) : ISnapshotProvider
{
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    /// <inheritdoc />
    public async ValueTask<Snapshot?> GetAsync(Guid eventId, CancellationToken cancellationToken)
    {
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
            first = entry.FirstComputation ??= ComputeForReaderAsync(eventId, entry);
        }

        return await first.WaitAsync(cancellationToken);
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

    /// <summary>
    /// Computes the event's numbers now; when they changed, gives the snapshot a new version, caches
    /// it and publishes it under <paramref name="eventName"/>. Returns false when the event does not exist.
    /// </summary>
    public async Task<bool> ComputeAsync(Guid eventId, string eventName, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(eventId, static _ => new Entry());
        var (snapshot, changed) = await ComputeIntoAsync(eventId, entry, cancellationToken);
        if (snapshot is null)
        {
            _entries.TryRemove(eventId, out _);
            return false;
        }

        if (changed)
        {
            publish(eventName, snapshot);
        }

        return true;
    }

    /// <summary>Drops the cached snapshot of an event (e.g. deleted, or idle for long).</summary>
    public void Forget(Guid eventId) => _entries.TryRemove(eventId, out _);

    private async Task<Snapshot?> ComputeForReaderAsync(Guid eventId, Entry entry)
    {
        try
        {
            var (snapshot, _) = await ComputeIntoAsync(eventId, entry, CancellationToken.None);
            if (snapshot is null)
            {
                _entries.TryRemove(eventId, out _);
            }

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

    private async Task<(Snapshot? Snapshot, bool Changed)> ComputeIntoAsync(Guid eventId, Entry entry, CancellationToken cancellationToken)
    {
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            long started = timeProvider.GetTimestamp();
            ViewModel? model;
            try
            {
                model = await ViewModelQuery.ComputeAsync(dataSource, eventId, timeProvider.GetUtcNow().UtcDateTime, cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                Interlocked.Increment(ref PulseMetrics.DatabaseErrorsTotal);
                throw;
            }
            finally
            {
                Interlocked.Increment(ref PulseMetrics.ComputationsTotal);
                PulseMetrics.ComputationSeconds.Observe(timeProvider.GetElapsedTime(started).TotalSeconds);
            }

            if (model is null)
            {
                return (null, false);
            }

            if (model.SameAs(entry.Model) && entry.Snapshot is not null)
            {
                return (entry.Snapshot, false);
            }

            long version = entry.Snapshot is null ? 1 : entry.Snapshot.Version + 1;
            var snapshot = new Snapshot(eventId, version, ViewModelJson.Serialize(model, version, timeProvider.GetUtcNow().UtcDateTime)) { Name = model.Name };
            entry.Model = model;
            entry.Snapshot = snapshot;
            entry.LastRead = timeProvider.GetTimestamp();
            return (snapshot, true);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    // SemaphoreSlim only needs disposing once its AvailableWaitHandle was used; it never is here.
#pragma warning disable CA1001
    private sealed class Entry
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public volatile Snapshot? Snapshot;
        public ViewModel? Model;
        public Task<Snapshot?>? FirstComputation;
        public long LastRead;
    }
#pragma warning restore CA1001
}
