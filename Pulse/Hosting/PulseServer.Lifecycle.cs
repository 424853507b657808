namespace Pulse.Hosting;

internal sealed partial class PulseServer
{
    // Time beyond the drain window Kestrel gives connections before aborting them.
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);

    /// <summary>Accept queue length for the listening sockets (see where it is set).</summary>
    private const int ListenBacklog = 4096;

    // The LISTEN connection usually comes up in milliseconds; a database down at start-up does not
    // hold the node (POSTs are then notified locally, see NotificationBus).
    private static readonly TimeSpan FirstListenTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _stopSync = new();
    private Task _draining = Task.CompletedTask;
    private Task? _finish;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _ticker.Start();
        _minutes.Start();
        await _bus.StartAsync(FirstListenTimeout, cancellationToken);

        // Read before the first request, so a node that loses the database later still knows every key
        // and event. Best effort: a failure is logged, and the copies are read once the database answers
        // (the LISTEN connection's return re-reads them). Never throws.
        await Task.WhenAll(_keys.LoadAsync(), _events.LoadAsync()).WaitAsync(cancellationToken);

        // ApplicationStopping fires first when the host stops (SIGTERM, SIGINT, StopAsync), before Kestrel
        // unbinds and then waits for the open connections: the drain closes them meanwhile.
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(() =>
        {
            lock (_stopSync)
            {
                _draining = Task.Run(() => _drain.DrainAsync(_drainWindow));
            }
        });
        await _app.StartAsync(cancellationToken);
    }

    /// <summary>Waits for SIGTERM/SIGINT and the host's stop (drain included).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the host (drain: sockets closed 1001 over the window), then the bus and the ticker. Idempotent.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
        Task finish;
        lock (_stopSync)
        {
            finish = _finish ??= FinishAsync(_draining);
        }

        await finish;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        await _minutes.DisposeAsync();
        await _bus.DisposeAsync();
        await _ticker.DisposeAsync();
        await _keys.DisposeAsync();
        await _events.DisposeAsync();
        _loggers.Dispose();
        Metrics.Dispose();
        _instruments.Dispose();
        await DataSource.DisposeAsync();
    }

    private async Task FinishAsync(Task draining)
    {
        await draining;
        await _bus.StopAsync();
        await _ticker.StopAsync();
    }
}
