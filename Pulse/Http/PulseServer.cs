using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;
using Pulse.Broadcasting;
using Pulse.Configuration;
using Pulse.Phoenix;
using Pulse.Storage;
using Pulse.WebSockets;

namespace Pulse.Http;

/// <summary>
/// The composition root: one Kestrel on the slim host, Pulse's parts built by hand (no reflection,
/// no container lookups on hot paths), the router as the only middleware.
/// </summary>
internal sealed partial class PulseServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiKeyStore _keys;
    private readonly Ticker _ticker;
    private readonly MinuteRefresh _minutes;
    private readonly ILoggerFactory _loggers;

    private PulseServer(WebApplication app, ILoggerFactory loggers, NpgsqlDataSource dataSource, ApiKeyStore keys, SnapshotService snapshots, Hub hub, Ticker ticker, MinuteRefresh minutes)
    {
        _loggers = loggers;
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

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked).</summary>
    public IReadOnlyList<string> Addresses => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    public IServiceProvider Services => _app.Services;

    public static PulseServer Create(PulseOptions options, TimeProvider? timeProvider = null, Action<ILoggingBuilder>? logging = null)
    {
        timeProvider ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();

        // Pulse's parts are built by hand before the host, on one logger factory the host shares,
        // so Kestrel's listener configuration can hand the finished socket factory to each listener.
        var loggers = LoggerFactory.Create(logging ?? DefaultLogging);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        var dataSource = PulseDatabase.Create(options.Database);
        var keys = new ApiKeyStore(dataSource, timeProvider);
        var hub = new Hub(loggers.CreateLogger<Hub>());
        var snapshots = new SnapshotService(dataSource, timeProvider, (name, snapshot) => hub.Publish(snapshot.Topic, name, snapshot));
        var ticker = new Ticker(options.Broadcast, timeProvider, (id, name, ct) => snapshots.ComputeAsync(id, name, ct), loggers.CreateLogger<Ticker>());
        var minutes = new MinuteRefresh(snapshots, hub, ticker, timeProvider);
        var store = new EventStore(dataSource);
        var known = new KnownEvents(store, snapshots, timeProvider, TimeSpan.FromSeconds(options.Http.EventCacheSeconds));
        var sockets = new PhoenixSocketFactory(hub, snapshots, new PhoenixOptions { MaxTopicsPerSocket = options.WebSocket.MaxTopicsPerSocket }, loggers.CreateLogger<PhoenixChannelSession>());
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // EventsEndpoints enforces Http:MaxBodyBytes as it reads. Kestrel's own cap (30,000,000
            // by default) would undercut a larger setting, and a cap at the same value breaks the
            // drain after a 413, so the client would see a reset instead of the answer.
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var endpoint in ListenUrls.Parse(options.Urls))
            {
                kestrel.Listen(endpoint, listen => listen.UsePulseWebSockets(options.WebSocket, sockets, loggers, timeProvider));
            }
        });

        var app = builder.Build();
        var router = new Router(
            new EventsEndpoints(snapshots, store, known, ticker, options.Http.MaxBodyBytes),
            new HealthEndpoints(dataSource),
            new DashboardEndpoints(new EmbeddedAssets(), store, snapshots, timeProvider),
            new ApiKeyAuthentication(keys));
        app.Run(router.HandleAsync);
        return new PulseServer(app, loggers, dataSource, keys, snapshots, hub, ticker, minutes);
    }

    private static void DefaultLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _ticker.Start();
        _minutes.Start();
        await _app.StartAsync(cancellationToken);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
        await _ticker.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _minutes.DisposeAsync();
        await _ticker.DisposeAsync();
        _keys.Dispose();
        _loggers.Dispose();
        await DataSource.DisposeAsync();
    }

}
