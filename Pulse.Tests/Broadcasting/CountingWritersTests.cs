using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Broadcasting;

/// <summary>
/// The writers' cases one by one, each tick's published numbers checked against the independent
/// reference (<see cref="CountingReference"/>) and the full statement: commits out of created_at order,
/// rows committed while a tick runs, two nodes, further links of an entry, ticks that change nothing,
/// the window's boundaries and late rows. Links are only ever inserted.
/// </summary>
[Trait("Category", "postgres")] public sealed class CountingWritersTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly DateTime Minute0 = new(2026, 11, 27, 20, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Tick_WritersCommitInOppositeOrderOfCreatedAt_BothCountedInTheirMinutes()
    {
        var battle = await CreateAsync("Opposite", Minute0, Minute0.AddHours(1), Minute0.AddMinutes(30));
        await battle.TickAsync("before the writers");
        await using var early = await database.DataSource.OpenConnectionAsync();
        await using var late = await database.DataSource.OpenConnectionAsync();
        await using var earlyTransaction = await early.BeginTransactionAsync();
        await using var lateTransaction = await late.BeginTransactionAsync();
        await CountingReference.InsertEntryAsync(early, earlyTransaction, Minute0.AddMinutes(9).AddSeconds(50), (battle.Keywords["#a1"], Minute0.AddMinutes(9).AddSeconds(50)));
        await CountingReference.InsertEntryAsync(late, lateTransaction, Minute0.AddMinutes(10).AddSeconds(10), (battle.Keywords["#a1"], Minute0.AddMinutes(10).AddSeconds(10)));
        var open = await battle.TickAsync("both writers open");
        Assert.Equal(0, CountingReference.Side(open, "A").Count);

        await lateTransaction.CommitAsync();
        var first = await battle.TickAsync("the later row committed");
        Assert.Equal(1, CountingReference.Side(first, "A").Minutes[10]);
        Assert.Equal(0, CountingReference.Side(first, "A").Minutes[9]);

        // The earlier row commits after a tick already counted a later one: it still counts, in its own minute.
        await earlyTransaction.CommitAsync();
        var both = await battle.TickAsync("the earlier row committed last");
        Assert.Equal((2, 1, 1), (CountingReference.Side(both, "A").Count, CountingReference.Side(both, "A").Minutes[9], CountingReference.Side(both, "A").Minutes[10]));
    }

    [Fact]
    public async Task Tick_RowsCommittedWhileTicksRun_EachCountedExactlyOnce()
    {
        var battle = await CreateAsync("During", Minute0, Minute0.AddHours(1), Minute0.AddMinutes(40));
        await battle.TickAsync("first tick");
        await using var writer = await database.DataSource.OpenConnectionAsync();
        const int Rounds = 30;
        for (int i = 0; i < Rounds; i++)
        {
            var at = Minute0.AddMinutes(i).AddSeconds(i);
            if (i % 2 == 0)
            {
                // Inserted and committed while the tick is in flight.
                var tick = battle.Service.ComputeAsync(battle.Id, "update", CancellationToken.None);
                await CountingReference.InsertEntryAsync(writer, null, at, (battle.Keywords["#a1"], at), (battle.Keywords["#b"], at));
                Assert.True(await tick);
            }
            else
            {
                // Inserted before the tick starts, committed while it runs.
                await using var transaction = await writer.BeginTransactionAsync();
                await CountingReference.InsertEntryAsync(writer, transaction, at, (battle.Keywords["#a2"], at));
                var tick = battle.Service.ComputeAsync(battle.Id, "update", CancellationToken.None);
                await transaction.CommitAsync();
                Assert.True(await tick);
            }
        }

        var last = await battle.TickAsync("after the writers");
        Assert.Equal(Rounds, CountingReference.Total(last));
        Assert.Equal(Rounds, CountingReference.Side(last, "A").Count);
        Assert.Equal(Rounds / 2, CountingReference.Side(last, "B").Count);
        Assert.All(CountingReference.Side(last, "A").Minutes[..Rounds], n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Tick_TwoNodesInterleaved_BothPublishTheReference()
    {
        var battle = await CreateAsync("Nodes", Minute0, Minute0.AddHours(1), Minute0.AddMinutes(20));
        var second = new SnapshotService(database.DataSource, battle.Catalog, battle.Time, 4, new RecordingBroadcaster(), new PulseMetrics());
        await battle.TickAsync("node 1 first tick");
        var random = new Random(7);
        await using var connection = await Open();
        for (int i = 0; i < 40; i++)
        {
            var at = Minute0.AddSeconds(random.Next(0, 20 * 60));
            await CountingReference.InsertEntryAsync(connection, null, at, (battle.Keywords[random.Next(2) == 0 ? "#a1" : "#b"], at));
            if (i % 3 == 0)
            {
                await battle.TickAsync($"node 1 after write {i}");
            }

            if (i % 5 == 0)
            {
                Assert.True(await second.ComputeAsync(battle.Id, "update", CancellationToken.None));
                await CountingReference.AssertPublishedAsync(second, database.DataSource, battle.Id, battle.Now, $"node 2 after write {i}");
            }
        }

        var one = await battle.TickAsync("node 1 last tick");
        Assert.True(await second.ComputeAsync(battle.Id, "update", CancellationToken.None));
        Assert.Equal(CountingReference.Canonical(one), await CountingReference.AssertPublishedAsync(second, database.DataSource, battle.Id, battle.Now, "node 2 last tick"));
        Assert.Equal(40, CountingReference.Total(one));
    }

    [Fact]
    public async Task Tick_SecondLinkEarlierThanFirst_MovesEntryToEarlierMinute_LaterChangesNothing()
    {
        var battle = await CreateAsync("Second", Minute0, Minute0.AddHours(1), Minute0.AddMinutes(30));
        await using var connection = await Open();
        var entry = await CountingReference.InsertEntryAsync(connection, null, Minute0.AddMinutes(12), (battle.Keywords["#a1"], Minute0.AddMinutes(12).AddSeconds(30)));
        var first = await battle.TickAsync("first link");
        Assert.Equal((1, 1), (CountingReference.Side(first, "A").Count, CountingReference.Side(first, "A").Minutes[12]));

        // Through the side's other keyword, seven minutes earlier: the same entry, in the earlier minute.
        await CountingReference.LinkAsync(database.DataSource, entry, battle.Keywords["#a2"], Minute0.AddMinutes(5).AddSeconds(10));
        var moved = await battle.TickAsync("second link earlier");
        var (count, minutes) = CountingReference.Side(moved, "A");
        Assert.Equal((1, 1, 0), (count, minutes[5], minutes[12]));
        Assert.Equal(1, CountingReference.Total(moved));
        long version = battle.Service.Peek(battle.Id)!.Version;

        // Later than its earliest link (either keyword): nothing changes, so no new version.
        await CountingReference.LinkAsync(database.DataSource, entry, battle.Keywords["#a1"], Minute0.AddMinutes(20));
        await CountingReference.LinkAsync(database.DataSource, entry, battle.Keywords["#a2"], Minute0.AddMinutes(8));
        Assert.Equal(CountingReference.Canonical(moved), CountingReference.Canonical(await battle.TickAsync("second links later")));
        Assert.Equal(version, battle.Service.Peek(battle.Id)!.Version);
    }

    [Fact]
    public async Task Tick_RepeatedTicksOverOneLink_CountOnceAndVersionOnlyOnChange()
    {
        var battle = await CreateAsync("Repeat", Minute0, Minute0.AddHours(1), Minute0.AddMinutes(30));
        await battle.TickAsync("empty");
        long empty = battle.Service.Peek(battle.Id)!.Version;

        // Ahead of now (20:30:30 while now is 20:30:00): the series reaches its minute at once.
        var at = Minute0.AddMinutes(30).AddSeconds(30);
        await using (var connection = await Open())
        {
            await CountingReference.InsertEntryAsync(connection, null, at, (battle.Keywords["#a1"], at));
        }

        for (int i = 0; i < 3; i++)
        {
            var json = await battle.TickAsync($"tick {i} over one link");
            Assert.Equal((1, 31), (CountingReference.Side(json, "A").Count, CountingReference.Side(json, "A").Minutes.Length));
            Assert.Equal(empty + 1, battle.Service.Peek(battle.Id)!.Version);
        }

        // 20:31:00: the last point is still 20:30, no change. 20:31:30: a new zero point, one new version.
        battle.Time.Advance(TimeSpan.FromSeconds(60));
        await battle.TickAsync("20:31:00");
        Assert.Equal(empty + 1, battle.Service.Peek(battle.Id)!.Version);
        battle.Time.Advance(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 3; i++)
        {
            var json = await battle.TickAsync($"tick {i} at 20:31:30");
            Assert.Equal((1, 32), (CountingReference.Side(json, "A").Count, CountingReference.Side(json, "A").Minutes.Length));
            Assert.Equal(empty + 2, battle.Service.Peek(battle.Id)!.Version);
        }
    }

    [Fact]
    public async Task Tick_RowsOnTheBoundaries_StartCountedEndNot()
    {
        // Starts 17 s into a minute, ends on a minute's turn; now is past the end.
        var start = Minute0.AddSeconds(17);
        var end = Minute0.AddHours(1);
        var battle = await CreateAsync("Bounds", start, end, end.AddMinutes(10));
        await using var connection = await Open();
        foreach (var at in new[] { start, start.AddTicks(-10), end, end.AddTicks(-10), end.AddMinutes(1) })
        {
            await CountingReference.InsertEntryAsync(connection, null, at, (battle.Keywords["#a1"], at));
        }

        var json = await battle.TickAsync("boundary rows");
        var (count, minutes) = CountingReference.Side(json, "A");

        // 20:00 … 20:59: no point for end_at's own minute; start_at counted in 20:00, end_at − 1 µs in 20:59.
        Assert.Equal(60, minutes.Length);
        Assert.Equal((2, 1, 1), (count, minutes[0], minutes[59]));
        Assert.Equal(2, CountingReference.Total(json));
    }

    [Fact]
    public async Task Tick_LateRowHoursInThePast_CountedInItsMinute()
    {
        var battle = await CreateAsync("Late", Minute0, Minute0.AddHours(3), Minute0.AddHours(2).AddMinutes(50));
        await using var connection = await Open();
        var recent = Minute0.AddHours(2).AddMinutes(49);
        await CountingReference.InsertEntryAsync(connection, null, recent, (battle.Keywords["#b"], recent));
        var before = await battle.TickAsync("recent row");
        Assert.Equal(0, CountingReference.Side(before, "A").Count);

        // Written now, created 2 h 43 min ago (inside the window), and one before the window.
        var late = Minute0.AddMinutes(7).AddSeconds(3);
        await CountingReference.InsertEntryAsync(connection, null, late, (battle.Keywords["#a2"], late));
        await CountingReference.InsertEntryAsync(connection, null, Minute0.AddMinutes(-1), (battle.Keywords["#a2"], Minute0.AddMinutes(-1)));
        var after = await battle.TickAsync("late rows");
        var (count, minutes) = CountingReference.Side(after, "A");
        Assert.Equal((1, 1, 170), (count, minutes[7], minutes.Length));
        Assert.Equal(2, CountingReference.Total(after));
    }

    private Task<NpgsqlConnection> Open() => database.DataSource.OpenConnectionAsync().AsTask();

    /// <summary>An event with sides A (#a1, #a2) and B (#b), beside another event of the same hashtags' kind, and a service at a fixed now.</summary>
    private async Task<Battle> CreateAsync(string name, DateTime start, DateTime end, DateTime now)
    {
        var (eventId, keywords) = await database.CreateEventAsync(name, start, end, ("A", "#a1"), ("A", "#a2"), ("B", "#b"));

        // Another event's links, in the same window, never count for this one.
        var (_, other) = await database.CreateEventAsync(name + " other", start, end, ("A", "#other"));
        await database.InsertEntryAsync(start.AddMinutes(1), other["#other"]);
        var time = new FakeTimeProvider(now);
        var catalog = new EventCatalog(database.DataSource, TimeProvider.System, NullLogger.Instance);
        var service = new SnapshotService(database.DataSource, catalog, time, 4, new RecordingBroadcaster(), new PulseMetrics());
        return new Battle(name, database.DataSource, eventId, keywords, time, catalog, service);
    }

    private sealed record Battle(string Name, NpgsqlDataSource DataSource, Guid Id, Dictionary<string, Guid> Keywords, FakeTimeProvider Time, EventCatalog Catalog, SnapshotService Service)
    {
        public DateTime Now => Time.GetUtcNow().UtcDateTime;

        /// <summary>One tick; asserts the published model equals the reference and the full statement; returns its JSON.</summary>
        public async Task<byte[]> TickAsync(string because)
        {
            Assert.True(await Service.ComputeAsync(Id, "update", CancellationToken.None));
            await CountingReference.AssertPublishedAsync(Service, DataSource, Id, Now, $"{Name}: {because}");
            return Service.Peek(Id)!.Json;
        }
    }
}
