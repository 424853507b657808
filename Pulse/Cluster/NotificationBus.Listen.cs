using Npgsql;
using Pulse.Broadcasting;
using Pulse.Diagnostics;
using Pulse.Storage;

namespace Pulse.Cluster;

internal sealed partial class NotificationBus
{
    // Backoff between connection attempts: 100 ms doubling to 2 s, each delay drawn from [d/2, d]
    // ("equal jitter"), so nodes that lost the database together do not reconnect in lockstep. The cap
    // bounds recovery: the database is noticed within 2 s of its return (the goal is exact numbers on
    // screen within 2 s). Its price is small: a refused connect every 1–2 s per node during an outage.
    internal static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    // WaitAsync wakes at least this often to check whether the connection needs a probe.
    private const int WaitMilliseconds = 1000;

    // A silent LISTEN connection is probed this often; a probe unanswered this long breaks it.
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The delay before connection attempt <paramref name="failures"/> + 1, jittered by <paramref name="random"/> in [0, 1).</summary>
    internal static TimeSpan Backoff(int failures, double random)
    {
        double ceiling = Math.Min(MaxBackoff.TotalMilliseconds, MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 16)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + random * ceiling / 2);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        int attempt = 0;
        int failures = 0;
        long lostAt = 0;
        while (!stopping.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await _listenSource.OpenConnectionAsync(stopping);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand(ListenSql, connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }

                attempt++;
                failures = 0;
                _listening = true;
                _listenLog.Recovered(out _);
                if (lostAt != 0)
                {
                    _pool.Clear();
                }

                ClusterLog.Listening(_logger, Channel, attempt);

                // After LISTEN took effect, as for the events below: a change before it is read now.
                foreach (var catalog in _catalogs)
                {
                    catalog.Invalidate();
                }

                _firstListen.TrySetResult();
                if (attempt > 1 || lostAt != 0)
                {
                    // After LISTEN took effect: a change before it is recomputed now, one after it is heard.
                    RecomputeWatched(lostAt);
                    lostAt = 0;
                }

                await WaitLoopAsync(connection, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Any failure of this connection (refused, terminated, broken pipe, keepalive timeout)
                // means the same thing: throw it away and connect again.
                var delay = Backoff(failures++, Random.Shared.NextDouble());
                if (_listening)
                {
                    // Once per established connection; the failed attempts after it are rate-limited.
                    _listening = false;
                    lostAt = _time.GetTimestamp();
                    ClusterLog.ListenLost(_logger, e);

                    // A lost LISTEN connection most often means the server restarted: the pool's idle
                    // connections are dead too, and each would fail one computation before being dropped.
                    _pool.Clear();
                }
                else
                {
                    lostAt = lostAt == 0 ? _time.GetTimestamp() : lostAt;
                    if (_listenLog.ShouldLog(out long suppressed))
                    {
                        ClusterLog.ListenFailed(_logger, e.Message.ReplaceLineEndings(" "), suppressed, (int)delay.TotalMilliseconds);
                    }
                }

                await DisposeQuietlyAsync(connection);
                connection = null;
                try
                {
                    await Task.Delay(delay, _time, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            finally
            {
                await DisposeQuietlyAsync(connection);
            }
        }

        _listening = false;
        ClusterLog.BusStopped(_logger);
    }

    /// <summary>
    /// Waits for notifications; after <see cref="PingInterval"/> of silence, sends a <c>SELECT 1</c>, so a dead server or a dropped NAT entry
    /// is found within seconds (Npgsql's own keepalive would never fire: each wait ends after 1 s).
    /// </summary>
    private async Task WaitLoopAsync(NpgsqlConnection connection, CancellationToken stopping)
    {
        long lastTraffic = _time.GetTimestamp();
        while (true)
        {
            if (await connection.WaitAsync(WaitMilliseconds, stopping))
            {
                lastTraffic = _time.GetTimestamp();
                continue;
            }

            if (_time.GetElapsedTime(lastTraffic) >= PingInterval)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(PingTimeout);
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(timeout.Token);
                lastTraffic = _time.GetTimestamp();
            }
        }
    }

    private void RecomputeWatched(long lostAt)
    {
        int count = _sink.RecomputeHeld();
        ClusterLog.RecomputingWatched(_logger, lostAt == 0 ? 0 : _time.GetElapsedTime(lostAt).TotalMilliseconds, count);
    }

    // The three channels in one round trip; fixed identifiers, never input.
    private const string ListenSql = "LISTEN " + Channel + "; LISTEN " + ICatalog.Channel + "; LISTEN " + RepairChannel;

    // Raised by Npgsql on the loop's thread, inside WaitAsync or a command on the connection.
    private void OnNotification(object sender, NpgsqlNotificationEventArgs args)
    {
        if (args.Channel == ICatalog.Channel)
        {
            OnCatalogChanged(args);
        }
        else if (args.Channel == RepairChannel)
        {
            if (Guid.TryParseExact(args.Payload, "D", out var eventId))
            {
                _sink.Repair(eventId);
            }
            else if (_payloadLog.ShouldLog(out long suppressed))
            {
                ClusterLog.MalformedPayload(_logger, args.Channel, args.PID, suppressed);
            }
        }
        else if (args.PID == _publisherPid)
        {
            // This node's own batch: its sink was notified when the POST came in (invariant 2).
        }
        else if (NotificationPayload.TryParse(args.Payload, out var notification))
        {
            _sink.Notify(notification.Value);
        }
        else if (_payloadLog.ShouldLog(out long suppressed))
        {
            ClusterLog.MalformedPayload(_logger, args.Channel, args.PID, suppressed);
        }
    }

    // The catalogs only start a read in the background: nothing here waits on the database.
    private void OnCatalogChanged(NpgsqlNotificationEventArgs args)
    {
        foreach (var catalog in _catalogs)
        {
            if (string.Equals(catalog.Table, args.Payload, StringComparison.Ordinal))
            {
                catalog.Invalidate();
                return;
            }
        }

        if (_payloadLog.ShouldLog(out long suppressed))
        {
            ClusterLog.MalformedPayload(_logger, args.Channel, args.PID, suppressed);
        }
    }

    private static async ValueTask DisposeQuietlyAsync(NpgsqlConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.DisposeAsync();
        }
        catch (Exception e) when (e is NpgsqlException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The connection was already broken; there is nothing left to release on the server.
        }
    }
}
