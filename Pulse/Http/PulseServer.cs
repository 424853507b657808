using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;
using Pulse.Broadcasting;
using Pulse.Configuration;
using Pulse.Storage;

namespace Pulse.Http;

/// <summary>
/// The composition root: one Kestrel on the slim host, Pulse's parts built by hand (no reflection,
/// no container lookups on hot paths), the router as the only middleware.
/// </summary>
internal sealed partial class PulseServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiKeyStore _keys;

    private PulseServer(WebApplication app, NpgsqlDataSource dataSource, ApiKeyStore keys, SnapshotService snapshots)
    {
        _app = app;
        _keys = keys;
        DataSource = dataSource;
        Snapshots = snapshots;
    }

    public NpgsqlDataSource DataSource { get; }

    public SnapshotService Snapshots { get; }

    /// <summary>The addresses Kestrel bound (with the real port when 0 was asked).</summary>
    public IReadOnlyList<string> Addresses => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];

    public IServiceProvider Services => _app.Services;

    public static PulseServer Create(PulseOptions options, TimeProvider? timeProvider = null, Action<ILoggingBuilder>? logging = null)
    {
        timeProvider ??= TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }
        else
        {
            logging(builder.Logging);
        }

        var dataSource = PulseDatabase.Create(options.Database);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // EventsEndpoints enforces Http:MaxBodyBytes as it reads. Kestrel's own cap (30,000,000
            // by default) would undercut a larger setting, and a cap at the same value breaks the
            // drain after a 413, so the client would see a reset instead of the answer.
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var endpoint in ListenUrls.Parse(options.Urls))
            {
                kestrel.Listen(endpoint, listen => ConfigureListener(listen, options));
            }
        });

        var app = builder.Build();
        var keys = new ApiKeyStore(dataSource, timeProvider);
        var snapshots = new SnapshotService(dataSource, timeProvider, (name, snapshot) => { });
        var store = new EventStore(dataSource);
        var known = new KnownEvents(store, snapshots, timeProvider, TimeSpan.FromSeconds(options.Http.EventCacheSeconds));
        var sink = new DirectNotificationSink(snapshots);
        var router = new Router(
            new EventsEndpoints(snapshots, store, known, sink, options.Http.MaxBodyBytes),
            new HealthEndpoints(dataSource),
            new DashboardEndpoints(new EmbeddedAssets(), store, timeProvider),
            new ApiKeyAuthentication(keys));
        app.Run(router.HandleAsync);
        return new PulseServer(app, dataSource, keys, snapshots);
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _keys.Dispose();
        await DataSource.DisposeAsync();
    }

    /// <summary>Hook for the WebSocket transport on each listener (connection layer).</summary>
    static partial void ConfigureListener(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen, PulseOptions options);
}
