using System.Collections.Concurrent;
using Pulse.Broadcasting;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>
/// Answers "does this event exist?" for <c>POST /v1/events</c> without a query per request: a cached
/// snapshot proves it; otherwise one lookup per id, remembered (found: until the cache is full;
/// not found: for <c>Http:EventCacheSeconds</c>, so an event created after a miss is seen soon).
/// </summary>
internal sealed class KnownEvents(EventStore events, SnapshotService snapshots, TimeProvider timeProvider, TimeSpan negativeTtl)
{
    // Bounds memory against a caller POSTing random ids: past this, the cache starts over.
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<Guid, long> _found = new();
    private readonly ConcurrentDictionary<Guid, long> _missing = new();

    public async ValueTask<bool> ExistsAsync(Guid id, CancellationToken cancellationToken)
    {
        if (snapshots.Peek(id) is not null || _found.ContainsKey(id))
        {
            return true;
        }

        long now = timeProvider.GetTimestamp();
        if (_missing.TryGetValue(id, out long at) && timeProvider.GetElapsedTime(at, now) < negativeTtl)
        {
            return false;
        }

        bool exists = await events.ExistsAsync(id, cancellationToken);
        var target = exists ? _found : _missing;
        if (target.Count >= MaxEntries)
        {
            target.Clear();
        }

        target[id] = now;
        if (exists)
        {
            _missing.TryRemove(id, out _);
        }

        return exists;
    }
}
