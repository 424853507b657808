namespace Pulse.Broadcasting;

/// <summary>
/// Where a new snapshot goes out to the event's subscribers: implemented by the Phoenix hub, which
/// encodes it once per serializer in use and offers the same frame to every socket (docs/design.md §8).
/// Broadcasting decides what to send and when; the layer that implements this decides how.
/// </summary>
/// <remarks>Thread safety: all members may be called from any thread; none blocks on a socket.</remarks>
internal interface IBroadcaster
{
    /// <summary>Offers <paramref name="snapshot"/> to every subscriber of its event, as event <paramref name="eventName"/>.</summary>
    void Broadcast(string eventName, Snapshot snapshot);

    /// <summary>True while at least one subscriber watches the event.</summary>
    bool IsWatched(Guid eventId);

    /// <summary>The events with at least one subscriber right now; a copy.</summary>
    IReadOnlyList<Guid> WatchedEvents();
}
