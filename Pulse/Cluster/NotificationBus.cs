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
/// loop's own thread. <see cref="PublishAsync"/> runs on request threads and sends NOTIFY through the
/// shared pool, never through the LISTEN connection (one command at a time per connection).</para>
/// <para><b>Lifecycle.</b> <see cref="StartAsync"/> → connected (listening) ⇄ reconnecting, with capped,
/// jittered exponential backoff (100 ms doubling to <see cref="MaxBackoff"/>, 2 s) → <see cref="StopAsync"/>.</para>
/// <para><b>Catalogs.</b> The same connection LISTENs on <see cref="ICatalog.Channel"/>, where migration
/// 003's triggers name a changed table (<c>api_keys</c>, <c>events</c>): the matching catalog re-reads it.
/// Every catalog also re-reads after each LISTEN, the first included, since changes before it were not heard.</para>
/// <para><b>Invariants.</b> (1) A POST is never lost: when NOTIFY fails, the local sink is notified
/// directly (its event stays dirty until a computation succeeds) and the notification is held in
/// <c>_pending</c> until NOTIFY works again, so other nodes get it too. (2) When this node is not
/// listening, its own NOTIFY would not come back, so the local sink is notified directly as well.
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
    /// Events whose NOTIFY waits for the database. Keyed by event, so an outage of any length with
    /// any number of POSTs holds one entry per event; the bound only guards against ids in the
    /// millions (each entry ≈ 100 bytes: 10,000 ≈ 1 MB).
    /// </summary>
    internal const int MaxPending = 10_000;

    // A hanging database must not hold a POST for the whole command timeout: after this, fall back.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);

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
    public NotificationBus(DatabaseOptions options, NpgsqlDataSource pool, INotificationSink sink, IReadOnlyList<ICatalog> catalogs, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pool = pool;
        _sink = sink;
        _catalogs = catalogs;
        _time = time;
        _logger = logger;
        _publishLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _listenLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _payloadLog = new LogLimiter(time, LogLimiter.DefaultInterval);
        _listenSource = PulseDatabase.Build(ListenConnectionString(options));
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
        try
        {
            await _firstListen.Task.WaitAsync(firstListenTimeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Reconnecting in the background; POSTs meanwhile are notified locally (invariant 2).
        }
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(Notification notification)
    {
        if (!_listening)
        {
            _sink.Notify(notification);
        }

        try
        {
            using var timeout = new CancellationTokenSource(PublishTimeout, _time);
            await using var command = _pool.CreateCommand(NotifySql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = NotificationPayload.Format(notification) });
            await command.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception e)
        {
            // Whatever went wrong (refused, timed out, pool exhausted), the POST was accepted: it must
            // reach this node now and the others later.
            if (_listening)
            {
                _sink.Notify(notification);
            }

            Hold(notification);
            if (_publishLog.ShouldLog(out long suppressed))
            {
                ClusterLog.PublishFailed(_logger, notification.EventId, e.Message.ReplaceLineEndings(" "), suppressed);
            }
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _listenSource.DisposeAsync();
        _stopping.Dispose();
    }

    // The channel is a compile-time constant identifier; the payload is always a parameter.
    private const string NotifySql = "SELECT pg_notify('" + Channel + "', $1)";

    private static string ListenConnectionString(DatabaseOptions options)
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
            ApplicationName = ApplicationName,

            // Connecting to a host that blackholes packets must not stall the loop for Npgsql's 15 s.
            Timeout = 5,
        };
        return builder.ConnectionString;
    }

    private void Hold(Notification notification)
    {
        if (_pending.Count >= MaxPending && !_pending.ContainsKey(notification.EventId))
        {
            if (_publishLog.ShouldLog(out long suppressed))
            {
                ClusterLog.PendingFull(_logger, MaxPending, notification.EventId, suppressed);
            }

            return;
        }

        _pending[notification.EventId] = notification.EventName;
    }
}
