using System.Collections.Concurrent;
using Npgsql;
using Pulse.Broadcasting;
using Pulse.Configuration;
using Pulse.Diagnostics;
using Pulse.Storage;

namespace Pulse.Cluster;

/// <summary>
/// The LISTEN/NOTIFY bus between Pulse nodes (docs/design.md §9): every notification a node accepts is sent
/// with NOTIFY on <see cref="Channel"/>, and every node, the sender included, hands what it hears to its
/// <see cref="INotificationSink"/> (the ticker: coalescing absorbs duplicates). One node alone works the same way.
/// </summary>
/// <remarks>
/// <para><b>Concurrency model.</b> One loop task owns the LISTEN connection (dedicated, unpooled,
/// Npgsql keepalive): it connects, LISTENs, then waits for notifications, which Npgsql raises on the
/// loop's own thread. <see cref="Publish"/> runs on request threads and never waits for the database: it
/// notifies the local sink and records the event in <c>_pending</c>; a second loop, the publisher, sends
/// what is pending as one statement on a connection of its own, at most one batch in flight and at most
/// one batch every <see cref="NotificationOptions.BatchMilliseconds"/> (NotificationBus.Publish.cs).</para>
/// <para><b>Lifecycle.</b> <see cref="StartAsync"/> → connected (listening) ⇄ reconnecting, with capped,
/// jittered exponential backoff (100 ms doubling to <see cref="MaxBackoff"/>, 2 s) → <see cref="StopAsync"/>,
/// which sends what is still pending once before it returns.</para>
/// <para><b>Catalogs.</b> The same connection LISTENs on <see cref="ICatalog.Channel"/>, where migration
/// 003's triggers name a changed table (<c>api_keys</c>, <c>events</c>): the matching catalog re-reads it.
/// Every catalog also re-reads after each LISTEN, the first included, since changes before it were not heard.</para>
/// <para><b>Invariants.</b> (1) A POST is never lost: its own node is notified at once, whatever the
/// database does, and the event stays in <c>_pending</c> (the latest name, one entry per event however many
/// POSTs) until a batch that holds it has been committed, so the other nodes get it too, after an outage as
/// well. (2) A node ignores its own echoes (the publisher connection's backend id): it was notified already.
/// (3) After every reconnect, every watched or cached event is recomputed once
/// (<see cref="INotificationSink.RecomputeHeld"/>), after LISTEN took effect: a change before that is
/// recomputed, a change after it is heard.</para>
/// </remarks>
internal sealed partial class NotificationBus : INotificationPublisher, IListenStatus, IAsyncDisposable
{
    /// <summary>The channel name, a fixed identifier (never input). The trigger of migration 002 uses it too.</summary>
    public const string Channel = "pulse_events";

    /// <summary>
    /// Where the trigger of migration 006 names an event whose links were deleted or updated (payload: the
    /// event id): its next computation reads every link, since a delta sees inserts only (docs/design.md §18).
    /// </summary>
    public const string RepairChannel = "pulse_repair";

    /// <summary>How the LISTEN connection shows in <c>pg_stat_activity.application_name</c>.</summary>
    public const string ApplicationName = "pulse-listen";

    /// <summary>
    /// Events whose NOTIFY waits for the next batch or for the database. Keyed by event, so an outage of any
    /// length with any number of POSTs holds one entry per event; the bound only guards against ids in the
    /// millions (each entry ≈ 100 bytes: 10,000 ≈ 1 MB). Every POSTed id is an event of the catalog.
    /// </summary>
    internal const int MaxPending = 10_000;

    /// <summary>How the publisher connection shows in <c>pg_stat_activity.application_name</c>.</summary>
    public const string PublisherApplicationName = "pulse-notify";

    private readonly NpgsqlDataSource _pool;
    private readonly NpgsqlDataSource _listenSource;
    private readonly INotificationSink _sink;
    private readonly IReadOnlyList<ICatalog> _catalogs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, string> _pending = new();
    private readonly LogLimiter _publishLog;
    private readonly LogLimiter _listenLog;
    private readonly LogLimiter _payloadLog;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile bool _listening;

    /// <param name="options">The database settings; the LISTEN connection is built from the same URL.</param>
    /// <param name="pool">The shared pool, for NOTIFY.</param>
    /// <param name="sink">Where heard notifications go, and who recomputes after a reconnect.</param>
    /// <param name="catalogs">In-memory copies of tables, told when their table changed or changes may have been missed.</param>
    /// <param name="batchInterval">At most one NOTIFY batch per interval (<see cref="NotificationOptions.BatchMilliseconds"/>).</param>
    public NotificationBus(DatabaseOptions options, NpgsqlDataSource pool, INotificationSink sink, IReadOnlyList<ICatalog> catalogs, TimeProvider time, ILogger logger, TimeSpan batchInterval)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pool = pool;
        _batchInterval = batchInterval;
        _sink = sink;
        _catalogs = catalogs;
        _time = time;
        _logger = logger;
        _publishLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _listenLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _payloadLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _listenSource = PulseDatabase.Build(ListenConnectionString(options, ApplicationName));
        _publishSource = PulseDatabase.Build(ListenConnectionString(options, PublisherApplicationName));
    }

    /// <inheritdoc />
    public bool IsListening => _listening;

    /// <summary>
    /// Starts the loop and waits (at most <paramref name="firstListenTimeout"/>) for the first LISTEN,
    /// so a POST right after start-up is heard. A database down at start does not stop the node.
    /// </summary>
    public async Task StartAsync(TimeSpan firstListenTimeout, CancellationToken cancellationToken = default)
    {
        _loop = RunAsync(_stopping.Token);
        _publishLoop = PublishLoopAsync(_stopping.Token);
        try
        {
            await _firstListen.Task.WaitAsync(firstListenTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Reconnecting in the background; POSTs meanwhile are notified locally (invariant 1).
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        if (_publishLoop is not null)
        {
            await _publishLoop;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _listenSource.DisposeAsync();
        await _publishSource.DisposeAsync();
        _stopping.Dispose();
        _wake.Dispose();
    }

    // The LISTEN connection and the publisher's: each one socket of its own for the life of the process.
    private static string ListenConnectionString(DatabaseOptions options, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(options.Url!, 1, options.CommandTimeoutSeconds))
        {
            // Its own socket for the life of the process: a pooled connection would be reset (UNLISTEN)
            // when returned, and a broken one must be thrown away, not recycled.
            Pooling = false,

            // Npgsql's keepalive query after 15 s of idleness, and TCP keepalive probes (15 s idle, then
            // every 5 s) under it; the wait loop also pings on its own (see WaitLoopAsync). A dead peer
            // (a failover, a dropped NAT entry) is found within ~20 s, not after the kernel's 2 hours.
            KeepAlive = 15,
            TcpKeepAlive = true,
            TcpKeepAliveTime = 15,
            TcpKeepAliveInterval = 5,
            ApplicationName = applicationName,

            // Connecting to a host that blackholes packets must not stall the loop for Npgsql's 15 s.
            Timeout = 5,
        };
        return builder.ConnectionString;
    }
}
