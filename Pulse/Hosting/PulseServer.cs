using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;
using Pulse.Broadcasting;
using Pulse.Cluster;
using Pulse.Configuration;
using Pulse.Diagnostics;
using Pulse.Http;
using Pulse.Phoenix;
using Pulse.Storage;
using Pulse.WebSockets;

namespace Pulse.Hosting;

/// <summary>
/// The composition root: one Kestrel on the slim host, Pulse's parts built by hand (no reflection,
/// no container lookups on hot paths), the router as the only middleware. Each lower layer owns the
/// seams it calls through (<see cref="INotificationSink"/>, <see cref="ISnapshotComputation"/>,
/// <see cref="IBroadcaster"/>, <see cref="IListenStatus"/>); they are joined here and nowhere else.
/// </summary>
internal sealed partial class PulseServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiKeyStore _keys;
    private readonly EventCatalog _events;
    private readonly Ticker _ticker;
    private readonly MinuteRefresh _minutes;
    private readonly ILoggerFactory _loggers;
    private readonly NotificationBus _bus;
    private readonly ShutdownDrain _drain;
    private readonly TimeSpan _drainWindow;
    private readonly PulseMetrics _instruments;

    private PulseServer(WebApplication app, ILoggerFactory loggers, NpgsqlDataSource dataSource, ApiKeyStore keys, EventCatalog events, SnapshotService snapshots, Hub hub, Ticker ticker, MinuteRefresh minutes, NotificationBus bus, ShutdownDrain drain, TimeSpan drainWindow, PulseMetrics instruments, PrometheusExporter metrics)
    {
        _events = events;
        _loggers = loggers;
        _bus = bus;
        _drain = drain;
        _drainWindow = drainWindow;
        _instruments = instruments;
        Metrics = metrics;
        _app = app;
        _keys = keys;
        _ticker = ticker;
        _minutes = minutes;
        DataSource = dataSource;
        Snapshots = snapshots;
        Hub = hub;
    }

    public Hub Hub { get; }

    public NpgsqlDataSource DataSource { get; }

    public SnapshotService Snapshots { get; }

    /// <summary>The in-memory event ids (for tests that count its reads).</summary>
    public EventCatalog Events => _events;

    /// <summary>The in-memory API keys (for tests that count its reads).</summary>
    public ApiKeyStore Keys => _keys;

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked).</summary>
    public IReadOnlyList<string> Addresses => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    public IServiceProvider Services => _app.Services;

    public NotificationBus Bus => _bus;

    /// <summary>This server's figures as <c>/metrics</c> shows them (tests read them here).</summary>
    public PrometheusExporter Metrics { get; }

    public static PulseServer Create(PulseOptions options, TimeProvider? timeProvider = null, Action<ILoggingBuilder>? logging = null)
    {
        timeProvider ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();

        // Pulse's parts are built by hand before the host, on one logger factory the host shares,
        // so Kestrel's listener configuration can hand the finished socket factory to each listener.
        var loggers = LoggerFactory.Create(logging ?? DefaultLogging);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        var metrics = new PulseMetrics();
        var dataSource = PulseDatabase.Create(options.Database);
        var storageLogger = loggers.CreateLogger("Pulse.Storage");
        var keys = new ApiKeyStore(dataSource, timeProvider, storageLogger);
        var events = new EventCatalog(dataSource, timeProvider, storageLogger);

        // The path of one notification, from the POST to bytes on a socket (docs/design.md §1):
        //  1. POST /v1/events: the Router authenticates, EventsEndpoints validates the body (EventTopic,
        //     Notification.CheckEventName) and finds the id in the EventCatalog (memory, no query).
        //  2. It hands the Notification to the INotificationPublisher, the bus, and answers 204: the bus
        //     notifies this node's sink (step 4) at once and holds the event for its next NOTIFY batch, one
        //     statement on the publisher's connection at most every Notifications:BatchMilliseconds.
        //  3. PostgreSQL delivers the batch to the LISTEN connection of every node; the others read the
        //     NotificationPayload (the database trigger writes the same shape), the sender ignores its echo.
        //  4. INotificationSink.Notify: the Ticker marks the event dirty and starts its computation at
        //     once (leading edge) or at the end of the window (trailing edge), one per window.
        //  5. ISnapshotComputation.ComputeAsync: SnapshotService folds the links committed since its last
        //     read into the event's CountingState (CountingRead, docs/design.md §18) and, when the numbers
        //     changed, caches a new version and calls IBroadcaster.Broadcast.
        //  6. The Phoenix Hub encodes the broadcast once per serializer in use and frames it once
        //     (SharedFrame), then offers it to the slot of every ChannelSubscription of the topic.
        //  7. The slot (FrameSlot, latest-only) joins its WebSocketConnection's ready queue and schedules its
        //     writer, which copies the frame into Kestrel's output pipe and flushes: the bytes are on the socket.
        var hub = new Hub(loggers.CreateLogger<Hub>(), metrics);
        var snapshots = new SnapshotService(
            dataSource, events, timeProvider, options.Broadcast.MaxConcurrentComputations, broadcaster: hub, metrics,
            options.Broadcast.VerifySeconds, loggers.CreateLogger<SnapshotService>());
        metrics.ObserveCounting(snapshots.CountingTotals);
        var ticker = new Ticker(options.Broadcast, timeProvider, computation: snapshots, loggers.CreateLogger<Ticker>(), metrics);
        var minutes = new MinuteRefresh(snapshots, hub, ticker, timeProvider);
        var store = new EventStore(dataSource);
        var sockets = new PhoenixSocketFactory(hub, snapshots, options.WebSocket, loggers.CreateLogger<PhoenixChannelSession>(), metrics, timeProvider);
        var bus = new NotificationBus(
            options.Database, dataSource, sink: ticker, [keys, events], timeProvider, loggers.CreateLogger<NotificationBus>(),
            TimeSpan.FromMilliseconds(options.Notifications.BatchMilliseconds));

        // One heartbeat for every listener: it is also the list of open sockets the drain closes.
        var socketLogger = loggers.CreateLogger("Pulse.WebSockets");
        var heartbeat = new WebSocketHeartbeat(timeProvider, socketLogger);
        var drain = new ShutdownDrain(heartbeat, timeProvider, loggers.CreateLogger<ShutdownDrain>());
        var drainWindow = TimeSpan.FromSeconds(options.Shutdown.DrainSeconds);

        // Kestrel waits for open connections up to the host's shutdown timeout, then aborts them: it must
        // outlast the drain window plus the close handshakes (5 s of margin).
        builder.WebHost.UseShutdownTimeout(drainWindow + ShutdownMargin);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = drainWindow + ShutdownMargin);
        // A join storm (docs/design.md §10: 19,000 in 10 s) arrives at ~1,900 connections/s; Kestrel's default
        // accept backlog of 512 overflowed during a pause of a few hundred ms, and the kernel dropped
        // SYNs that clients retried only after the 1 s initial retransmission timeout (measured: p99
        // 1.3-1.7 s in half the storms, TcpExtListenOverflows +829). 4,096 (Linux's default somaxconn,
        // which caps it) absorbs a 2 s pause at that rate, for ~4,096 × a few hundred bytes of kernel memory.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(socket => socket.Backlog = ListenBacklog);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // EventsEndpoints enforces Http:MaxBodyBytes as it reads. Kestrel's own cap (30,000,000
            // by default) would undercut a larger setting, and a cap at the same value breaks the
            // drain after a 413, so the client would see a reset instead of the answer.
            kestrel.Limits.MaxRequestBodySize = null;

            // A first head that is not an upgrade (a long method token, say) goes on to Kestrel's parser:
            // the same budget holds there, so no connection holds a descriptor for its head longer than
            // WebSocket:HandshakeTimeoutSeconds (Kestrel's own default is 30 s).
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.WebSocket.HandshakeTimeoutSeconds);
            foreach (var endpoint in ListenUrls.Parse(options.Urls))
            {
                kestrel.Listen(endpoint, listen => listen.UsePulseWebSockets(options.WebSocket, sockets, loggers, timeProvider, metrics, heartbeat));
            }
        });

        var app = builder.Build();

        // Kestrel's meter comes from the host's meter factory: that factory tells this server's Kestrel apart.
        var exporter = new PrometheusExporter(metrics, app.Services.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        var router = new Router(
            new EventsEndpoints(snapshots, store, events, bus, options.Http.MaxBodyBytes),
            new HealthEndpoints(dataSource, loggers.CreateLogger<HealthEndpoints>(), timeProvider, cluster: bus),
            new DashboardEndpoints(new EmbeddedAssets(), store, snapshots, timeProvider),
            new MetricsEndpoint(exporter),
            new ApiKeyAuthentication(keys),
            loggers.CreateLogger<Router>(),
            timeProvider);
        app.Run(router.HandleAsync);
        return new PulseServer(app, loggers, dataSource, keys, events, snapshots, hub, ticker, minutes, bus, drain, drainWindow, metrics, exporter);
    }

    private static void DefaultLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    }
}
