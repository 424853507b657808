using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Broadcasting;

/// <summary>
/// A seeded random mix of the writes the background jobs make (new entries, further links earlier or
/// later than the first, late rows, rows ahead of now, boundary rows, transactions committing out of
/// order, another event's links) with a tick every few writes: after every tick the published model
/// equals the full statement and the independent reference (<see cref="CountingReference"/>) at the
/// same now, for the battle and, when the tick grouped them, for the other event. Links are only ever inserted: ticks need not see deletes or updates.
/// </summary>
[Trait("Category", "postgres")] public sealed class CountingPropertyTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int Operations = 1200;

    // Start 17 s into a minute, so the first point's minute and the window's start differ.
    private static readonly DateTime Start = new(2026, 11, 27, 20, 0, 17, DateTimeKind.Utc);
    private static readonly DateTime End = Start.AddHours(2);

    [Theory]
    [InlineData(101)]
    [InlineData(202)]
    [InlineData(303)]
    public async Task Ticks_RandomWrites_PublishedEqualsFullStatementAndReference(int seed)
    {
        var random = new Random(seed);
        var (battle, battleKeywords) = await database.CreateEventAsync(
            $"Battle {seed}", Start, End, ("Barça", "#ForçaBarça"), ("Barça", "#Visca"), ("Madrid", "#HalaMadrid"), ("Madrid", "#RM"), ("Atleti", "#Aupa"), ("Atleti", "#ATM"));
        var (other, otherKeywords) = await database.CreateEventAsync($"Other {seed}", Start, End, ("Barça", "#Barça"), ("Other", "#other"));
        var run = new Run(database.DataSource, battle, other, seed, random, [.. battleKeywords.Values], [.. otherKeywords.Values],
            new FakeTimeProvider(Start.AddMinutes(random.Next(30, 70))));
        await using var catalog = new EventCatalog(database.DataSource, TimeProvider.System, NullLogger.Instance);
        Assert.True(await catalog.LoadAsync());
        run.Service = new SnapshotService(database.DataSource, catalog, run.Time, 4, new RecordingBroadcaster(), new PulseMetrics());
        await run.TickAsync("first tick");

        int untilTick = random.Next(1, 7);
        for (run.Operation = 0; run.Operation < Operations; run.Operation++)
        {
            int dice = random.Next(100);
            if (dice < 35)
            {
                await run.InsertAsync(null, run.InsideBeforeNow());
            }
            else if (dice < 50)
            {
                await run.LinkAgainAsync();
            }
            else if (dice < 58)
            {
                // Late: minutes to hours in the past, inside the window or before it.
                await run.InsertAsync(null, run.Now.AddSeconds(-random.Next(60, 3 * 3600)));
            }
            else if (dice < 65)
            {
                // Ahead of now (the writers' clocks run ahead) but inside the window when there is room.
                var ahead = run.Now.AddSeconds(random.Next(1, 1200));
                await run.InsertAsync(null, ahead < End ? ahead : End.AddSeconds(-random.Next(1, 30)));
            }
            else if (dice < 70)
            {
                DateTime[] boundaries = [Start, End, Start.AddTicks(-10), End.AddTicks(-10)];
                await run.InsertAsync(null, boundaries[random.Next(boundaries.Length)]);
            }
            else if (dice < 74)
            {
                await run.InsertAsync(null, run.InsideBeforeNow(), run.Other);
            }
            else if (dice < 80)
            {
                await run.OutOfOrderCommitsAsync();
            }
            else if (dice < 86)
            {
                // Across a minute's turn often enough for the series to grow (and to pass end_at).
                run.Time.Advance(TimeSpan.FromSeconds(random.Next(20, 150)));
            }
            else
            {
                await run.InsertAsync(null, run.InsideBeforeNow());
            }

            if (--untilTick == 0)
            {
                await run.TickAsync("tick");
                untilTick = random.Next(1, 7);
            }
        }

        await run.TickAsync("last tick");
        var published = run.Service.Peek(battle)!;
        Assert.Equal(published.Json, (await run.Service.GetAsync(battle, CancellationToken.None))!.Json);

        // A node starting now (first use: a full read) publishes the same numbers as the one that ticked all along.
        var fresh = new SnapshotService(database.DataSource, catalog, run.Time, 4, new RecordingBroadcaster(), new PulseMetrics());
        Assert.True(await fresh.ComputeAsync(battle, "update", CancellationToken.None));
        Assert.Equal(CountingReference.Canonical(published.Json), CountingReference.Canonical(fresh.Peek(battle)!.Json));

        // The mix did exercise both sides of the rules: many entries counted, and links left out (outside the window).
        int total = CountingReference.Total(published.Json);
        long linked = await database.ScalarAsync<long>(
            "SELECT count(DISTINCT l.uniq_entry_id) FROM uniq_entry_keywords l JOIN keywords k ON k.id = l.keyword_id WHERE k.event_id = $1", battle);
        Assert.True(total > 300 && total < linked, $"seed {seed}: {total} counted of {linked} linked entries");
    }

    /// <summary>One seed's state: the event, the clock, the service and the entries written so far.</summary>
    private sealed class Run(NpgsqlDataSource dataSource, Guid eventId, Guid otherEvent, int seed, Random random, Guid[] keywords, Guid[] other, FakeTimeProvider time)
    {
        private readonly List<(Guid Id, DateTime FirstAt)> _entries = [];

        public FakeTimeProvider Time { get; } = time;

        public Guid[] Other { get; } = other;

        public SnapshotService Service { get; set; } = null!;

        public int Operation { get; set; }

        public DateTime Now => Time.GetUtcNow().UtcDateTime;

        /// <summary>A time in [start_at, min(now, end_at)), to the microsecond.</summary>
        public DateTime InsideBeforeNow()
        {
            var edge = Now < End ? Now : End;
            return Start.AddTicks(random.NextInt64((edge - Start).Ticks / 10) * 10);
        }

        /// <summary>
        /// Ticks and checks the published model against the full statement and the reference. One tick in
        /// three computes the other event too, in one group with the battle (ComputeMany, as a tick's
        /// trailing edges are): the other event is read only then, so its snapshot lags the battle's and
        /// the grouped statement reads from the older one, which the battle must fold again harmlessly.
        /// </summary>
        public async Task TickAsync(string what)
        {
            string context = $"seed {seed}, operation {Operation}, {what} at {Now:O}";
            if (random.Next(3) == 0)
            {
                await Task.WhenAll(Service.ComputeMany([(eventId, "update"), (otherEvent, "update")], CancellationToken.None));
                await CountingReference.AssertPublishedAsync(Service, dataSource, otherEvent, Now, context + " (other event, grouped)");
            }
            else
            {
                Assert.True(await Service.ComputeAsync(eventId, "update", CancellationToken.None));
            }

            await CountingReference.AssertPublishedAsync(Service, dataSource, eventId, Now, context);
        }

        /// <summary>A new entry linked to 1..3 keywords (from <paramref name="pool"/>, else the battle's; sides may differ), links up to 90 s apart.</summary>
        public async Task InsertAsync(NpgsqlTransaction? transaction, DateTime at, Guid[]? pool = null)
        {
            pool ??= keywords;
            var links = Enumerable.Range(0, random.Next(1, 4))
                .Select(i => (Keyword: pool[random.Next(pool.Length)], At: i == 0 ? at : at.AddSeconds(random.Next(0, 91))))
                .ToArray();
            if (transaction is null)
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                _entries.Add((await CountingReference.InsertEntryAsync(connection, null, at, links), at));
            }
            else
            {
                _entries.Add((await CountingReference.InsertEntryAsync(transaction.Connection!, transaction, at, links), at));
            }
        }

        /// <summary>A further link of an entry written before: earlier or later than its first, maybe to another side or event.</summary>
        public async Task LinkAgainAsync()
        {
            if (_entries.Count == 0)
            {
                return;
            }

            var (entry, firstAt) = _entries[random.Next(_entries.Count)];
            var keyword = random.Next(10) == 0 ? Other[random.Next(Other.Length)] : keywords[random.Next(keywords.Length)];
            await CountingReference.LinkAsync(dataSource, entry, keyword, firstAt.AddSeconds(random.Next(-1800, 1801)));
        }

        /// <summary>
        /// Two or three writers insert in open transactions (created_at increasing), a tick runs while
        /// they are open, and they commit in the reverse order of their created_at.
        /// </summary>
        public async Task OutOfOrderCommitsAsync()
        {
            int writers = random.Next(2, 4);
            var connections = new List<NpgsqlConnection>();
            var transactions = new List<NpgsqlTransaction>();
            try
            {
                var at = InsideBeforeNow();
                for (int i = 0; i < writers; i++)
                {
                    var connection = await dataSource.OpenConnectionAsync();
                    connections.Add(connection);
                    transactions.Add(await connection.BeginTransactionAsync());
                    await InsertAsync(transactions[i], at);
                    at = at.AddSeconds(random.Next(1, 20));
                }

                await TickAsync($"tick with {writers} writers open");
                for (int i = writers - 1; i >= 0; i--)
                {
                    await transactions[i].CommitAsync();
                    if (random.Next(2) == 0)
                    {
                        await TickAsync($"tick after writer {i} of {writers} committed");
                    }
                }
            }
            finally
            {
                foreach (var transaction in transactions)
                {
                    await transaction.DisposeAsync();
                }

                foreach (var connection in connections)
                {
                    await connection.DisposeAsync();
                }
            }
        }
    }
}
