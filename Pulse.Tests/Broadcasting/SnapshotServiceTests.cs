using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Broadcasting;

/// <summary>
/// SnapshotService's versioning against the real query: a reader never caches a version nobody
/// broadcasts, versions survive Forget, and ids that fail leave nothing behind.
/// </summary>
[Trait("Category", "postgres")] public sealed class SnapshotServiceTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task GetAsync_TickCachedWhileReaderWaitedForGate_ReturnsItWithoutSecondQuery()
    {
        var (eventId, _) = await CreateEndedEventAsync("Gate");
        var published = new RecordingBroadcaster();
        using var metrics = new TestMetrics();
        var service = new SnapshotService(database.DataSource, await LoadedCatalogAsync(database.DataSource), TimeProvider.System, 4, published, metrics.Instruments);

        // The tick's query waits on a lock of the events table while holding the entry's gate.
        await using var locker = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("LOCK TABLE events IN ACCESS EXCLUSIVE MODE", locker, transaction))
        {
            await lockEvents.ExecuteNonQueryAsync();
        }

        long before = metrics.Read(PulseMetrics.ComputationsTotal);
        var tick = service.ComputeAsync(eventId, "update", CancellationToken.None);
        await WaitForBlockedQueryAsync();
        var read = service.GetAsync(eventId, CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted);
        await transaction.CommitAsync();

        Assert.True(await tick.WaitAsync(Timeout));
        var snapshot = await read.WaitAsync(Timeout);

        // The reader takes what the tick cached and broadcast: a query of its own could cache a newer
        // version that no broadcast carries (the tick after it finds nothing changed).
        Assert.Equal(1, snapshot!.Version);
        Assert.Equal([1L], published.Versions);
        Assert.Equal(1, metrics.Read(PulseMetrics.ComputationsTotal) - before);
    }

    [Fact]
    public async Task Forget_ThenRead_VersionContinuesAndIsBroadcast()
    {
        var (eventId, keywords) = await CreateEndedEventAsync("Forget");
        var published = new RecordingBroadcaster();
        var service = new SnapshotService(database.DataSource, await LoadedCatalogAsync(database.DataSource), TimeProvider.System, 4, published, new PulseMetrics());
        await database.InsertEntryAsync(keywords.Start.AddMinutes(2), keywords.Id);
        Assert.Equal(1, (await service.GetAsync(eventId, CancellationToken.None))!.Version);

        Assert.Equal(1, service.CountingTotals().Records);
        service.Forget(eventId);
        Assert.Null(service.Peek(eventId));

        // The counting state goes with the snapshot: an event nobody holds costs no memory.
        Assert.Equal((0, 0), service.CountingTotals());
        await database.InsertEntryAsync(keywords.Start.AddMinutes(1), keywords.Id);
        var again = await service.GetAsync(eventId, CancellationToken.None);

        // Versions only grow in a process (docs/design.md §5): a subscriber still holding 1 takes 2.
        Assert.Equal(2, again!.Version);
        Assert.Equal([2L], published.Versions);
    }

    [Fact]
    public async Task GetAsync_RandomIdsWhileDatabaseFails_LeaveNoEntries()
    {
        // Port 1 on loopback refuses at once: every computation fails with an NpgsqlException.
        await using var refused = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=x;Database=x;Timeout=2;Pooling=false");
        var service = new SnapshotService(refused, new EventCatalog(refused, TimeProvider.System, NullLogger.Instance), TimeProvider.System, 4, new RecordingBroadcaster(), new PulseMetrics());
        for (int i = 0; i < 20; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await service.GetAsync(Guid.NewGuid(), CancellationToken.None));
        }

        Assert.Equal(0, service.EntryCount);
    }

    [Fact]
    public async Task GetAsync_UnknownIds_LeaveNoEntries()
    {
        var service = new SnapshotService(database.DataSource, await LoadedCatalogAsync(database.DataSource), TimeProvider.System, 4, new RecordingBroadcaster(), new PulseMetrics());
        for (int i = 0; i < 20; i++)
        {
            Assert.Null(await service.GetAsync(Guid.NewGuid(), CancellationToken.None));
        }

        Assert.Equal(0, service.EntryCount);
    }

    [Fact]
    public async Task ComputeAsync_ManyEventsAtOnce_DeltasShareTwoStatementsAndAreExact()
    {
        // Forty leading edges at once (a flood starting on forty battles): each computes alone, and
        // their delta reads go as two statements, the first one's and everyone else's, not forty.
        const int Events = 40;
        var events = new List<(Guid EventId, (DateTime Start, Guid Id) Keyword)>();
        for (int i = 0; i < Events; i++)
        {
            events.Add(await CreateEndedEventAsync("Many" + i));
        }

        var published = new RecordingBroadcaster();
        var service = new SnapshotService(database.DataSource, await LoadedCatalogAsync(database.DataSource), TimeProvider.System, 1, published, new PulseMetrics());
        foreach (var (eventId, _) in events)
        {
            Assert.Equal(0, JsonDocumentTotal(await service.GetAsync(eventId, CancellationToken.None)));
        }

        for (int i = 0; i < Events; i++)
        {
            for (int n = 0; n <= i % 3; n++)
            {
                await database.InsertEntryAsync(events[i].Keyword.Start.AddMinutes(n), events[i].Keyword.Id);
            }
        }

        // The first statement waits on a lock while the others ask: they can only go together after it.
        long before = service.DeltaStatements;
        await using var locker = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("LOCK TABLE events IN ACCESS EXCLUSIVE MODE", locker, transaction))
        {
            await lockEvents.ExecuteNonQueryAsync();
        }

        var first = service.ComputeAsync(events[0].EventId, "n", CancellationToken.None);
        await WaitForBlockedQueryAsync();
        var rest = events.Skip(1).Select(e => service.ComputeAsync(e.EventId, "n", CancellationToken.None)).ToArray();
        await transaction.CommitAsync();
        Assert.All(await Task.WhenAll([first, .. rest]).WaitAsync(Timeout), Assert.True);

        // One slot (MaxConcurrentComputations = 1) bounds full reads only: no delta waited for another.
        Assert.Equal(2, service.DeltaStatements - before);
        for (int i = 0; i < Events; i++)
        {
            Assert.Equal(i % 3 + 1, JsonDocumentTotal(service.Peek(events[i].EventId)));
        }

        Assert.Equal(Events, published.Versions.Count);
    }

    [Fact]
    public async Task ComputeAsync_CancelledWhileItsDeltaWaitsForTheRoundInFlight_EndsAtOnceAndReadsNothing()
    {
        // Shutdown while the database hangs: a read still queued behind the statement in flight is
        // cancelled with the ticker's token instead of waiting for that statement and its own.
        var (first, _) = await CreateEndedEventAsync("InFlight");
        var (second, keywords) = await CreateEndedEventAsync("Queued");
        var service = new SnapshotService(database.DataSource, await LoadedCatalogAsync(database.DataSource), TimeProvider.System, 4, new RecordingBroadcaster(), new PulseMetrics());
        await service.GetAsync(first, CancellationToken.None);
        var before = await service.GetAsync(second, CancellationToken.None);
        await database.InsertEntryAsync(keywords.Start.AddMinutes(3), keywords.Id);
        long statements = service.DeltaStatements;

        await using var locker = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockEvents = new NpgsqlCommand("LOCK TABLE events IN ACCESS EXCLUSIVE MODE", locker, transaction))
        {
            await lockEvents.ExecuteNonQueryAsync();
        }

        var inFlight = service.ComputeAsync(first, "n", CancellationToken.None);
        await WaitForBlockedQueryAsync();
        using var stopping = new CancellationTokenSource();
        var queued = service.ComputeAsync(second, "n", stopping.Token);
        await Task.Delay(100);
        Assert.False(queued.IsCompleted);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Timeout));
        Assert.False(inFlight.IsCompleted);
        await transaction.CommitAsync();
        Assert.True(await inFlight.WaitAsync(Timeout));

        // The queued read ran no statement and left the cached numbers as they were; the next one reads them.
        Assert.Equal(1, service.DeltaStatements - statements);
        Assert.Same(before, service.Peek(second));
        Assert.True(await service.ComputeAsync(second, "n", CancellationToken.None));
        Assert.Equal(1, JsonDocumentTotal(service.Peek(second)));
    }

    private static long JsonDocumentTotal(Snapshot? snapshot)
    {
        Assert.NotNull(snapshot);
        using var json = System.Text.Json.JsonDocument.Parse(snapshot.Json);
        return json.RootElement.GetProperty("total").GetInt64();
    }

    // Read before the test's own locks and counts, as a server reads it at start-up.
    private static async Task<EventCatalog> LoadedCatalogAsync(NpgsqlDataSource dataSource)
    {
        var catalog = new EventCatalog(dataSource, TimeProvider.System, NullLogger.Instance);
        Assert.True(await catalog.LoadAsync());
        return catalog;
    }

    private async Task<(Guid EventId, (DateTime Start, Guid Id) Keyword)> CreateEndedEventAsync(string name)
    {
        var end = DateTime.UtcNow.AddHours(-1);
        end = new DateTime(end.Ticks - (end.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
        var start = end.AddMinutes(-30);
        var (eventId, keywords) = await database.CreateEventAsync(name, start, end, ("A", "#a"), ("B", "#b"));
        return (eventId, (start, keywords["#a"]));
    }

    private async Task WaitForBlockedQueryAsync()
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (await database.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'events'::regclass") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the tick's query never waited for the lock");
            await Task.Delay(20);
        }
    }
}
