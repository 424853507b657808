using Pulse.Broadcasting;
using Pulse.Cluster;
using Pulse.Diagnostics;

namespace Pulse.Http;

/// <summary>
/// <c>/healthz</c> (the process serves) and <c>/readyz</c> (the database answers and, when given, the
/// node hears other nodes: <paramref name="cluster"/>, when given, is listening).
/// </summary>
/// <remarks>
/// The 503's reason is one of a few fixed sentences: <c>/readyz</c> needs no key, and Npgsql's
/// message names the database host, port and user. The exception goes to the log, one line per
/// <see cref="LogLimiter.DefaultInterval"/> while the outage lasts (a load balancer probes every
/// node every few seconds).
/// </remarks>
internal sealed class HealthEndpoints(Npgsql.NpgsqlDataSource dataSource, ILogger logger, TimeProvider timeProvider, IListenStatus? cluster = null)
{
    /// <summary>The reason when the database refused or failed the probe.</summary>
    internal const string DatabaseUnavailable = "database unavailable";

    // A readiness probe must answer quickly even when the database hangs.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The reason while the node does not hear the other nodes.</summary>
    internal const string NotListening = "not listening for notifications of other nodes (reconnecting to the database)";

    private static readonly string DatabaseSlow = $"database did not answer within {ReadyTimeout.TotalSeconds:0} s";

    private readonly LogLimiter _failureLog = new(timeProvider, LogLimiter.DefaultInterval);

    public static Task LiveAsync(HttpContext context) =>
        HttpResults.JsonAsync(context, StatusCodes.Status200OK, new StatusBody("ok"), PulseJsonContext.Default.StatusBody);

    public async Task ReadyAsync(HttpContext context)
    {
        // Wall-clock on purpose: it guards a real socket, whatever clock the pipeline runs on.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Any failure of the probe means "not ready", a driver or TLS misconfiguration included.
            var reason = timeout.IsCancellationRequested ? DatabaseSlow : DatabaseUnavailable;
            if (_failureLog.ShouldLog(out long suppressed))
            {
                HttpLog.NotReady(logger, reason, suppressed, e);
            }

            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, reason);
            return;
        }

        _failureLog.Recovered(out _);
        if (cluster is { IsListening: false })
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, NotListening);
            return;
        }

        await HttpResults.JsonAsync(context, StatusCodes.Status200OK, new StatusBody("ready"), PulseJsonContext.Default.StatusBody);
    }
}
