using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Pulse.Cluster;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Cluster;

/// <summary>
/// The publisher of <see cref="NotificationBus"/> (docs/design.md §9) on a real PostgreSQL, two buses on
/// one database standing for two nodes: a flood costs one statement per batch interval, a node hears
/// itself once (no echo), and notifications taken while the database refuses are held per event and
/// reach the other node when it answers again.
/// </summary>
[Trait("Category", "postgres")] public sealed class PublisherTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Publish_FloodOnOneEvent_OneStatementPerIntervalAndOtherNodeHearsLastName()
    {
        var interval = TimeSpan.FromMilliseconds(100);
        await using var a = await StartAsync(interval);
        await using var b = await StartAsync(interval);
        await using var counter = await Pipeline.StatementCounter.OpenAsync(database);
        long before = await NotifyStatementsAsync(counter);
        var eventId = Guid.NewGuid();

        // 10,000 POSTs over about a second, as a flood on one battle.
        const int Posts = 10_000;
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= Posts; i++)
        {
            a.Bus.Publish(new Notification(eventId, "n" + i));
            if (i % 500 == 0)
            {
                await Task.Delay(50);
            }
        }

        var elapsed = clock.Elapsed;
        await ClusterKit.EventuallyAsync(() => Task.FromResult(b.Sink.Last(eventId) == "n" + Posts), Timeout, "node B hears the last name");
        await Task.Delay(interval * 3); // any echo would arrive meanwhile

        long statements = await NotifyStatementsAsync(counter) - before;

        // At most one batch per interval, plus the one in flight when the loop ended.
        long bound = 2 + (long)Math.Ceiling(elapsed / interval);
        Assert.InRange(statements, 1, bound);
        Assert.InRange(b.Sink.Count(eventId), 1, statements);

        // Node A was told of every POST at once, by Publish itself, and of none again through LISTEN.
        Assert.Equal(Posts, a.Sink.Count(eventId));
        Assert.Equal(0, a.Bus.PendingCount);
    }

    [Fact]
    public async Task Publish_One_EachNodeComputesItOnce()
    {
        await using var a = await StartAsync(TimeSpan.FromMilliseconds(25));
        await using var b = await StartAsync(TimeSpan.FromMilliseconds(25));
        var eventId = Guid.NewGuid();

        a.Bus.Publish(new Notification(eventId, "goal"));

        Assert.Equal(1, a.Sink.Count(eventId)); // before Publish returned: no database round trip
        await ClusterKit.EventuallyAsync(() => Task.FromResult(b.Sink.Count(eventId) == 1), Timeout, "node B hears it");
        await Task.Delay(500);
        Assert.Equal(1, a.Sink.Count(eventId));
        Assert.Equal(1, b.Sink.Count(eventId));
        Assert.Equal("goal", b.Sink.Last(eventId));
    }

    [Fact]
    public async Task Publish_DatabaseRefusesConnections_HeldPerEventUpToBoundThenSent()
    {
        await using var a = await StartAsync(TimeSpan.FromMilliseconds(25));
        await using var b = await StartAsync(TimeSpan.FromMilliseconds(25));
        a.Bus.Publish(new Notification(Guid.NewGuid(), "warm-up")); // A's publisher connection is open
        await ClusterKit.EventuallyAsync(() => Task.FromResult(a.Bus.PendingCount == 0), Timeout, "the warm-up is sent");

        // An outage for A's publisher: its connection is killed and new ones are refused. B's LISTEN
        // connection, already open, stays.
        // From another database: PostgreSQL will not disallow connections to the current one.
        await using var admin = new NpgsqlConnection(DatabaseUrl.ToConnectionString(PostgresServer.Url, 1, 30));
        await admin.OpenAsync();
        Guid[] flooded, more;
        await ExecuteAsync(admin, $"ALTER DATABASE {database.Name} ALLOW_CONNECTIONS false");
        try
        {
            await ExecuteAsync(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}' AND application_name = '{NotificationBus.PublisherApplicationName}'");

            // Three battles flooded, then events up to the bound (N − 1, N) and one past it (N + 1).
            flooded = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
            for (int i = 1; i <= 3_000; i++)
            {
                a.Bus.Publish(new Notification(flooded[i % 3], "flood-" + i));
            }

            Assert.Equal(3, a.Bus.PendingCount);
            more = Enumerable.Range(0, NotificationBus.MaxPending - 3 + 1).Select(_ => Guid.NewGuid()).ToArray();
            foreach (var id in more[..^2])
            {
                a.Bus.Publish(new Notification(id, "more"));
            }

            Assert.Equal(NotificationBus.MaxPending - 1, a.Bus.PendingCount);
            a.Bus.Publish(new Notification(more[^2], "more"));
            Assert.Equal(NotificationBus.MaxPending, a.Bus.PendingCount);
            a.Bus.Publish(new Notification(more[^1], "past the bound"));
            Assert.Equal(NotificationBus.MaxPending, a.Bus.PendingCount);

            // Every one was taken by its own node at once, the one past the bound too.
            Assert.Equal(1, a.Sink.Count(more[^1]));
            await Task.Delay(500);
            Assert.Equal(0, b.Sink.Count(flooded[0]));
        }
        finally
        {
            await ExecuteAsync(admin, $"ALTER DATABASE {database.Name} ALLOW_CONNECTIONS true");
        }

        // Back: B hears each held event once, under its latest name; not the one past the bound.
        await ClusterKit.EventuallyAsync(() => Task.FromResult(a.Bus.PendingCount == 0), Timeout, "the held events are sent");
        await ClusterKit.EventuallyAsync(() => Task.FromResult(b.Sink.Total >= NotificationBus.MaxPending + 1), Timeout, "node B hears the held events");
        await Task.Delay(500);
        Assert.Equal(NotificationBus.MaxPending + 1, b.Sink.Total); // the warm-up and the held ones, once each
        Assert.Equal(["flood-2998", "flood-2999", "flood-3000"], flooded.Select(id => b.Sink.Last(id)!).Order(StringComparer.Ordinal));
        Assert.Equal(0, b.Sink.Count(more[^1]));
    }

    private async Task<Node> StartAsync(TimeSpan interval)
    {
        var options = new DatabaseOptions { Url = database.Url };
        var pool = PulseDatabase.Create(options);
        var sink = new RecordingSink();
        var bus = new NotificationBus(options, pool, sink, [], TimeProvider.System, NullLogger.Instance, interval);
        await bus.StartAsync(Timeout);
        Assert.True(bus.IsListening);
        return new Node(bus, sink, pool);
    }

    private static async Task<long> NotifyStatementsAsync(Pipeline.StatementCounter counter) =>
        (await counter.ByStatementAsync()).Where(p => p.Key.Contains("pg_notify", StringComparison.Ordinal) && p.Key.Contains("unnest", StringComparison.Ordinal)).Sum(p => p.Value);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        // Identifiers only: the database name is generated by the fixture from digits and a prefix.
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed class Node(NotificationBus bus, RecordingSink sink, NpgsqlDataSource pool) : IAsyncDisposable
    {
        public NotificationBus Bus { get; } = bus;

        public RecordingSink Sink { get; } = sink;

        public async ValueTask DisposeAsync()
        {
            await Bus.DisposeAsync();
            await pool.DisposeAsync();
        }
    }

    /// <summary>The ticker's place: every notification taken, by event, in order.</summary>
    private sealed class RecordingSink : INotificationSink
    {
        private readonly ConcurrentDictionary<Guid, ConcurrentQueue<string>> _names = new();
        private int _total;

        public int Total => Volatile.Read(ref _total);

        public IEnumerable<Guid> Events => _names.Keys;

        public int Count(Guid eventId) => _names.TryGetValue(eventId, out var names) ? names.Count : 0;

        public string? Last(Guid eventId) => _names.TryGetValue(eventId, out var names) ? names.LastOrDefault() : null;

        public void Notify(Notification notification)
        {
            _names.GetOrAdd(notification.EventId, static _ => new ConcurrentQueue<string>()).Enqueue(notification.EventName);
            Interlocked.Increment(ref _total);
        }

        public int RecomputeHeld() => 0;

        public void Repair(Guid eventId)
        {
        }
    }
}
