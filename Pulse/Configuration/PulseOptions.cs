namespace Pulse.Configuration;

/// <summary>
/// Every setting of Pulse, bound from configuration by the binding source generator (no reflection,
/// AOT-safe). Keys are the property paths (<c>Broadcast:TickMilliseconds</c>); defaults are the
/// initializers below and are documented, key by key, in <c>pulse.example.json</c>.
/// </summary>
internal sealed class PulseOptions
{
    /// <summary>Where Kestrel listens; <c>;</c>-separated. Default <c>http://0.0.0.0:4000</c>.</summary>
    public string Urls { get; set; } = "http://0.0.0.0:4000";

    public DatabaseOptions Database { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    public WebSocketTransportOptions WebSocket { get; set; } = new();

    public BroadcastOptions Broadcast { get; set; } = new();

    public NotificationOptions Notifications { get; set; } = new();

    public ShutdownOptions Shutdown { get; set; } = new();
}

internal sealed class DatabaseOptions
{
    /// <summary><c>postgres://user:pass@host:port/db?sslmode=…</c> or an Npgsql keyword string. Env: <c>DATABASE_URL</c>.</summary>
    public string? Url { get; set; }

    /// <summary>Maximum pooled connections. Env: <c>POOL_SIZE</c>. Default 10.</summary>
    public int PoolSize { get; set; } = 10;

    /// <summary>Seconds before a statement is cancelled. Default 10.</summary>
    public int CommandTimeoutSeconds { get; set; } = 10;
}

internal sealed class HttpOptions
{
    /// <summary>Largest accepted request body; larger gets 413. Default 1,048,576.</summary>
    public long MaxBodyBytes { get; set; } = 1_048_576;
}

internal sealed class NotificationOptions
{
    /// <summary>When true, <c>pulse migrate</c> installs the trigger on <c>uniq_entry_keywords</c>; when false it removes it. Default false.</summary>
    public bool DatabaseTrigger { get; set; }

    /// <summary>
    /// <c>Notifications:BatchMilliseconds</c>, default 25, 1 to 1,000: a node sends the notifications POSTed
    /// to it as one NOTIFY statement at most this often (at most 1000 / 25 = 40 statements a second however
    /// many POSTs), which adds at most this much latency between nodes. Its own node is notified at once.
    /// </summary>
    public int BatchMilliseconds { get; set; } = 25;
}

internal sealed class ShutdownOptions
{
    /// <summary>Seconds over which sockets are closed (1001) in batches at shutdown. Default 10.</summary>
    public int DrainSeconds { get; set; } = 10;
}
