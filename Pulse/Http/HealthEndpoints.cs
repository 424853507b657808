using Npgsql;

namespace Pulse.Http;

/// <summary>
/// <c>/healthz</c> (the process serves) and <c>/readyz</c> (the database answers and, when given, the
/// node hears other nodes: <paramref name="notReady"/> returns the reason it does not, or null).
/// </summary>
internal sealed class HealthEndpoints(NpgsqlDataSource dataSource, Func<string?>? notReady = null)
{
    // A readiness probe must answer quickly even when the database hangs.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(2);

    public static Task LiveAsync(HttpContext context) =>
        HttpResults.JsonAsync(context, StatusCodes.Status200OK, new StatusBody("ok"), PulseJsonContext.Default.StatusBody);

    public async Task ReadyAsync(HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            var reason = e is OperationCanceledException ? $"database did not answer within {ReadyTimeout.TotalSeconds:0} s" : "database unavailable: " + e.Message.ReplaceLineEndings(" ");
            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, reason);
            return;
        }

        if (notReady?.Invoke() is { } why)
        {
            await HttpResults.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, why);
            return;
        }

        await HttpResults.JsonAsync(context, StatusCodes.Status200OK, new StatusBody("ready"), PulseJsonContext.Default.StatusBody);
    }
}
