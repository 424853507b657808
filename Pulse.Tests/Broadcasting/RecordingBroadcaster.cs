namespace Pulse.Tests.Broadcasting;

/// <summary>A broadcaster double: keeps the version of every snapshot broadcast; nobody watches.</summary>
internal sealed class RecordingBroadcaster : IBroadcaster
{
    private readonly List<long> _versions = [];

    public IReadOnlyList<long> Versions
    {
        get
        {
            lock (_versions)
            {
                return [.. _versions];
            }
        }
    }

    public void Broadcast(string eventName, Snapshot snapshot)
    {
        lock (_versions)
        {
            _versions.Add(snapshot.Version);
        }
    }

    public bool IsWatched(Guid eventId) => false;

    public IReadOnlyList<Guid> WatchedEvents() => [];
}
