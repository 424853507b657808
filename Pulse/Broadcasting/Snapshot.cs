namespace Pulse.Broadcasting;

/// <summary>
/// One computed view model of an event (docs/design.md §5), immutable once published: <see cref="Json"/> is
/// the UTF-8 view model, serialized once per computation and shared by every reader (joins, GET, frames).
/// </summary>
internal sealed class Snapshot(Guid eventId, long version, byte[] json)
{
    public Guid EventId { get; } = eventId;

    /// <summary>Starts at 1 per process; grows only when the numbers change.</summary>
    public long Version { get; } = version;

    public byte[] Json { get; } = json;

    /// <summary>The event's name (for the dashboard's page title), kept beside the JSON.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>
    /// A strong entity tag for <c>GET /v1/events/{id}</c>. The version alone would not do: it restarts
    /// at 1 in every process, so a node restart or another node behind the balancer could hand out
    /// the same version for other numbers; a hash of the bytes cannot collide that way.
    /// </summary>
    public string ETag => _etag ??= $"\"{Version}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Json), 0, 8)}\"";

    private string? _etag;
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
