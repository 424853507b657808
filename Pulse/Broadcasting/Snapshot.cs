namespace Pulse.Broadcasting;

/// <summary>
/// One computed view model of an event (DESIGN §5), immutable once published: <see cref="Json"/> is
/// the UTF-8 view model, serialized once per computation and shared by every reader (joins, GET, frames).
/// </summary>
internal sealed class Snapshot(Guid eventId, long version, byte[] json)
{
    public Guid EventId { get; } = eventId;

    /// <summary>Starts at 1 per process; grows only when the numbers change.</summary>
    public long Version { get; } = version;

    public byte[] Json { get; } = json;

    /// <summary>The topic string, lower case: <c>event:&lt;uuid&gt;</c>.</summary>
    public string Topic => "event:" + EventId.ToString("D");
}

/// <summary>Where joins and <c>GET /v1/events/{id}</c> take their snapshot.</summary>
internal interface ISnapshotProvider
{
    /// <summary>
    /// The cached snapshot when there is one (no query); else one shared computation.
    /// <c>null</c> when the event does not exist.
    /// </summary>
    ValueTask<Snapshot?> GetAsync(Guid eventId, CancellationToken cancellationToken);
}
