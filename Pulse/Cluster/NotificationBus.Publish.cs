using Npgsql;
using NpgsqlTypes;
using Pulse.Broadcasting;
using Pulse.Diagnostics;

namespace Pulse.Cluster;

/// <summary>
/// The publisher (docs/design.md §9): a POST costs a dictionary write; one loop sends every pending event
/// in one statement, on a connection of its own, at most one batch in flight and one batch per interval.
/// </summary>
/// <remarks>
/// <para><b>Cost.</b> A flood of any size on one event rewrites one entry and sends one NOTIFY per interval
/// (25 ms: at most 40 statements a second for the whole node, however many events and POSTs). PostgreSQL
/// folds equal notifications of one transaction, and a batch is one transaction: one commit and one
/// take of its global notification lock.</para>
/// <para><b>Latency.</b> An idle publisher sends at once (the leading edge); under load a notification
/// waits at most one interval plus the batch in flight before it leaves for the other nodes. Its own node
/// is notified before <see cref="Publish"/> returns.</para>
/// <para><b>Outage.</b> A failed batch leaves its events pending (a newer name written meanwhile is kept)
/// and is retried with the LISTEN loop's backoff (at most 2 s), so the other nodes get every event once
/// the database answers. Held entries are bounded by distinct events (<see cref="MaxPending"/>).</para>
/// <para><b>Echoes.</b> Notifications come back to the sender's LISTEN too. Those sent by the publisher
/// connection carry its backend id and are ignored: this node was notified already, and each echo would
/// cost a computation in the next window. A backend id belongs to that connection while it is open; after
/// a reconnect the id is the new connection's, and a late echo of the old one costs one computation.</para>
/// </remarks>
internal sealed partial class NotificationBus
{
    // One notification per pending event; the channel is a compile-time constant identifier, the payloads a parameter.
    private const string BatchSql = "SELECT pg_notify('" + Channel + "', p) FROM unnest($1::text[]) AS p";

    private readonly NpgsqlDataSource _publishSource;
    private readonly TimeSpan _batchInterval;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _wakeRequested;
    private int _pendingCount;
    private volatile int _publisherPid;
    private NpgsqlConnection? _publisher;
    private Task? _publishLoop;

    /// <summary>Events waiting for a batch (or for the database); for tests.</summary>
    internal int PendingCount => Volatile.Read(ref _pendingCount);

    /// <inheritdoc />
    public void Publish(Notification notification)
    {
        _sink.Notify(notification);
        Hold(notification.EventId, notification.EventName);
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Release();
        }
    }

    private void Hold(Guid eventId, string name)
    {
        while (true)
        {
            // The flood path: the event is pending already, its name is replaced.
            if (_pending.TryGetValue(eventId, out var current))
            {
                if (ReferenceEquals(current, name) || _pending.TryUpdate(eventId, name, current))
                {
                    return;
                }

                continue; // sent and removed meanwhile, or renamed by another POST
            }

            if (Volatile.Read(ref _pendingCount) >= MaxPending)
            {
                if (_publishLog.ShouldLog(out long suppressed))
                {
                    ClusterLog.PendingFull(_logger, MaxPending, eventId, suppressed);
                }

                return;
            }

            if (_pending.TryAdd(eventId, name))
            {
                Interlocked.Increment(ref _pendingCount);
                return;
            }
        }
    }

    private async Task PublishLoopAsync(CancellationToken stopping)
    {
        int failures = 0;
        try
        {
            // Opened before a POST needs it: a data source's first connection also reads PostgreSQL's
            // type catalog, which the first notification to the other nodes waited for (the first probe
            // of the two-node run took 92 to 130 ms, the others at most 41). Down at start: the first
            // batch opens it, and logs what failed.
            try
            {
                await OpenPublisherAsync(stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ClusterLog.PublisherOpenFailed(_logger, e.Message.ReplaceLineEndings(" "));
            }

            while (true)
            {
                await _wake.WaitAsync(stopping);
                Volatile.Write(ref _wakeRequested, 0);
                long started = _time.GetTimestamp();
                while (!await TrySendAsync(stopping))
                {
                    await Task.Delay(Backoff(failures++, Random.Shared.NextDouble()), _time, stopping);
                    started = _time.GetTimestamp();
                }

                failures = 0;
                var rest = _batchInterval - _time.GetElapsedTime(started);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, _time, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // StopAsync: what was POSTed last still goes out, within the command timeout.
            using var last = new CancellationTokenSource(MaxBackoff, _time);
            await TrySendAsync(last.Token);
        }
        finally
        {
            await DisposeQuietlyAsync(_publisher);
            _publisher = null;
        }
    }

    // The publisher's connection, opened when there is none; its backend id marks this node's echoes.
    private async Task<NpgsqlConnection> OpenPublisherAsync(CancellationToken cancellationToken)
    {
        if (_publisher is null)
        {
            _publisher = await _publishSource.OpenConnectionAsync(cancellationToken);
            _publisherPid = _publisher.ProcessID;
        }

        return _publisher;
    }

    /// <summary>Sends every pending event in one statement; false (logged, the events still pending) when it failed.</summary>
    private async Task<bool> TrySendAsync(CancellationToken cancellationToken)
    {
        var batch = _pending.ToArray();
        if (batch.Length == 0)
        {
            return true;
        }

        try
        {
            var publisher = await OpenPublisherAsync(cancellationToken);
            var payloads = new string[batch.Length];
            for (int i = 0; i < batch.Length; i++)
            {
                payloads[i] = NotificationPayload.Format(new Notification(batch[i].Key, batch[i].Value));
            }

            await using var command = new NpgsqlCommand(BatchSql, publisher);
            command.Parameters.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = payloads });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e)
        {
            await DisposeQuietlyAsync(_publisher);
            _publisher = null;
            if (_publishLog.ShouldLog(out long suppressed))
            {
                ClusterLog.PublishFailed(_logger, batch.Length, e.Message.ReplaceLineEndings(" "), suppressed);
            }

            return false;
        }

        int removed = 0;
        foreach (var sent in batch)
        {
            // Only this pair: a newer name POSTed meanwhile stays for the next batch.
            if (_pending.TryRemove(sent))
            {
                removed++;
            }
        }

        Interlocked.Add(ref _pendingCount, -removed);
        if (_publishLog.Recovered(out long failed))
        {
            ClusterLog.PendingPublished(_logger, batch.Length, failed);
        }

        return true;
    }
}
