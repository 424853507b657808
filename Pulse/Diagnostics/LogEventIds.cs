namespace Pulse.Diagnostics;

/// <summary>
/// The event ids of every Pulse log line: one class per layer, each in its own range of 100, every id unique
/// across the product (<c>LogEventIdTests</c> checks it by reflection). An id, once released, keeps its
/// meaning: operators filter and alert on it. A line removed retires its id here; no other line takes it.
/// </summary>
/// <remarks>
/// <code>
/// range       class             layer
/// 1000–1099   StorageLog        Storage (the in-memory copies of tables)
/// 2000–2099   HttpLog           Http (router, health)
/// 3000–3099   WebSocketsLog     WebSockets (transport, file-descriptor limit, heartbeat)
/// 4000–4099   PhoenixLog        Phoenix (sessions, upgrade check, hub fan-out)
/// 5000–5099   BroadcastingLog   Broadcasting (ticker)
/// 6000–6099   ClusterLog        Cluster (notification bus, shutdown drain)
/// 7000–7099   DemoLog           Demo (pulse demo's simulated feed)
/// 8000–8099   reserved          Hosting (composition root, lifecycle), none yet
/// 9000–9099   reserved          Configuration and Cli (they print; none logs yet)
/// </code>
/// Gaps that are not retired, only never used: 3016–3029 (3030 opened the keep-alive upgrade lines),
/// 6009 (the drain's lines begin at 6010).
/// </remarks>
internal static class LogEventIds
{
    /// <summary>First id of each layer's range; a class's ids lie in [first, first + 99].</summary>
    public static readonly IReadOnlyDictionary<string, int> RangeStart = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [nameof(StorageLog)] = 1000,
        [nameof(HttpLog)] = 2000,
        [nameof(WebSocketsLog)] = 3000,
        [nameof(PhoenixLog)] = 4000,
        [nameof(BroadcastingLog)] = 5000,
        [nameof(ClusterLog)] = 6000,
        [nameof(DemoLog)] = 7000,
    };

    /// <summary>Ids of removed lines: never to be used again.</summary>
    public static readonly IReadOnlyList<int> Retired = [5003]; // 5003: the ticker's error callback failed (the callback is gone)
}
