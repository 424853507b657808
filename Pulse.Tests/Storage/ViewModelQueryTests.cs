using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Storage;

/// <summary>The view model of docs/design.md §5 against an independent formulation of the same rules.</summary>
[Trait("Category", "postgres")] public sealed class ViewModelQueryTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly DateTime Minute0 = new(2026, 11, 27, 20, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Compute_ThousandRandomEntries_MatchesIndependentSql()
    {
        // Start 17 s into a minute so the first point's minute and the window's start differ.
        var start = Minute0.AddSeconds(17);
        var end = start.AddHours(2);
        var now = start.AddMinutes(50).AddSeconds(30);
        var (eventId, kw) = await database.CreateEventAsync(
            "Random", start, end, ("Barça", "#ForçaBarça"), ("Barça", "#Visca"), ("Madrid", "#HalaMadrid"), ("Madrid", "#RM"), ("Atleti", "#Aupa"), ("Atleti", "#ATM"));
        var keywords = kw.Values.ToArray();
        var random = new Random(1234);
        for (int i = 0; i < 1100; i++)
        {
            // Mostly inside the window and before now (links spread up to 90 s later stay before now),
            // some before the start; the end is covered by the boundary rows below.
            var at = start.AddSeconds(random.Next(-600, 2900));
            int links = random.Next(1, 4);
            var chosen = Enumerable.Range(0, links).Select(_ => keywords[random.Next(keywords.Length)]).Distinct().ToArray();
            await InsertWithSpreadLinksAsync(at, chosen, random);
        }

        // Rows exactly on the boundaries: start_at counts, end_at does not (half-open window).
        await database.InsertEntryAsync(start, kw["#ForçaBarça"]);
        await database.InsertEntryAsync(end, kw["#ForçaBarça"]);

        // One entry through two keywords of one side counts once for that side.
        var both = await database.InsertEntryAsync(start.AddMinutes(3), kw["#HalaMadrid"], kw["#RM"]);

        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, now, CancellationToken.None);

        Assert.NotNull(model);
        Assert.Equal(["Atleti", "Barça", "Madrid"], model.Queries.Select(q => q.Query));
        Assert.Equal(Minute0, model.FirstMinute);
        Assert.Equal(await IndependentTotalAsync(eventId), model.Total);
        foreach (var side in model.Queries)
        {
            var expected = await IndependentSeriesAsync(eventId, side.Query, Minute0, 51);
            Assert.Equal(expected.Sum(), side.Count);
            Assert.Equal(expected, side.Minutes);
        }

        Assert.True(model.Queries.Sum(q => q.Count) >= model.Total);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM uniq_entry_keywords WHERE uniq_entry_id = $1", both) / 2);
    }

    [Fact]
    public async Task Compute_EntryLinkedTwiceToOneSide_CountsOnceInEarliestMinute()
    {
        var (eventId, kw) = await database.CreateEventAsync("Twice", Minute0, Minute0.AddHours(1), ("A", "#a1"), ("A", "#a2"), ("B", "#b"));
        var entry = Guid.NewGuid();
        await database.ExecuteAsync("INSERT INTO uniq_entries (id, created_at) VALUES ($1, $2)", entry, Minute0.AddMinutes(2));
        await database.ExecuteAsync("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entry, kw["#a1"], Minute0.AddMinutes(4));
        await database.ExecuteAsync("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entry, kw["#a2"], Minute0.AddMinutes(2).AddSeconds(59));
        await database.ExecuteAsync("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entry, kw["#b"], Minute0.AddMinutes(1));

        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, Minute0.AddMinutes(5).AddSeconds(1), CancellationToken.None);

        Assert.NotNull(model);
        Assert.Equal(1, model.Total);
        Assert.Equal([0, 0, 1, 0, 0, 0], model.Queries[0].Minutes);
        Assert.Equal([0, 1, 0, 0, 0, 0], model.Queries[1].Minutes);
    }

    [Fact]
    public async Task Compute_FutureEvent_NoPointsAndZeroCounts()
    {
        var (eventId, _) = await database.CreateEventAsync("Future", Minute0.AddDays(1), Minute0.AddDays(1).AddHours(2), ("X", "#x"), ("Y", "#y"));

        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, Minute0, CancellationToken.None);

        Assert.NotNull(model);
        Assert.Equal(0, model.Total);
        Assert.All(model.Queries, q => Assert.Empty(q.Minutes));
        Assert.Equal(["X", "Y"], model.Queries.Select(q => q.Query));
    }

    [Fact]
    public async Task Compute_EndedEventOnMinuteBoundary_LastPointIsMinuteBeforeEnd()
    {
        var end = Minute0.AddMinutes(10);
        var (eventId, kw) = await database.CreateEventAsync("Ended", Minute0, end, ("X", "#x"));
        await database.InsertEntryAsync(end.AddTicks(-10), kw["#x"]);
        await database.InsertEntryAsync(end, kw["#x"]);

        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, Minute0.AddDays(3), CancellationToken.None);

        Assert.NotNull(model);
        var minutes = Assert.Single(model.Queries).Minutes;
        Assert.Equal(10, minutes.Length);
        Assert.Equal(1, minutes[^1]);
        Assert.Equal(1, model.Total);
    }

    [Fact]
    public async Task Compute_RowAheadOfNow_SeriesExtendsToItsMinute()
    {
        var (eventId, kw) = await database.CreateEventAsync("Skew", Minute0, Minute0.AddHours(1), ("X", "#x"));
        await database.InsertEntryAsync(Minute0.AddMinutes(7).AddSeconds(5), kw["#x"]);

        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, Minute0.AddMinutes(4).AddSeconds(30), CancellationToken.None);

        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1], Assert.Single(model!.Queries).Minutes);
    }

    [Fact]
    public async Task Compute_UnknownEvent_ReturnsNull()
    {
        Assert.Null(await ViewModelQuery.ComputeAsync(database.DataSource, Guid.NewGuid(), Minute0, CancellationToken.None));
    }

    [Fact]
    public async Task Compute_EventWithoutKeywords_NoQueries()
    {
        var (eventId, _) = await database.CreateEventAsync("Empty", Minute0, Minute0.AddHours(1));
        var model = await ViewModelQuery.ComputeAsync(database.DataSource, eventId, Minute0.AddMinutes(1), CancellationToken.None);
        Assert.NotNull(model);
        Assert.Empty(model.Queries);
        Assert.Equal(0, model.Total);
    }

    [Fact]
    public async Task Compute_Twice_StatementPreparedOnceOnTheConnection()
    {
        var (eventId, _) = await database.CreateEventAsync("Prepared", Minute0, Minute0.AddHours(1), ("X", "#x"));

        // The server's own data source (slim builder) on a dedicated, non-pooled connection so the
        // session asked is the one that ran the statement.
        var options = new DatabaseOptions { Url = database.Url, PoolSize = 1 };
        await using var dataSource = PulseDatabase.Create(options);
        await using var connection = await dataSource.OpenConnectionAsync();
        await ViewModelQuery.ComputeAsync(connection, eventId, Minute0, CancellationToken.None);
        await ViewModelQuery.ComputeAsync(connection, eventId, Minute0.AddMinutes(1), CancellationToken.None);

        await using var check = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%uniq_entry_keywords%' AND from_sql = false", connection);
        Assert.Equal(1L, (long)(await check.ExecuteScalarAsync())!);
    }

    // Links of one entry may come at different times (a retweet matched later); spread them over a few seconds.
    private async Task InsertWithSpreadLinksAsync(DateTime at, Guid[] keywordIds, Random random)
    {
        var entry = Guid.NewGuid();
        await database.ExecuteAsync("INSERT INTO uniq_entries (id, created_at) VALUES ($1, $2)", entry, at);
        foreach (var keywordId in keywordIds)
        {
            await database.ExecuteAsync("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entry, keywordId, at.AddSeconds(random.Next(0, 90)));
        }
    }

    // Written differently from the server's statement on purpose: DISTINCT ON for the earliest link,
    // the window as two comparisons, minutes computed in C# from epoch seconds.
    private async Task<int[]> IndependentSeriesAsync(Guid eventId, string query, DateTime firstMinute, int points)
    {
        var series = new int[points];
        await using var command = database.DataSource.CreateCommand("""
            SELECT DISTINCT ON (l.uniq_entry_id) extract(epoch FROM l.created_at)::bigint
            FROM uniq_entry_keywords l
            JOIN keywords k ON k.id = l.keyword_id
            JOIN events e ON e.id = k.event_id
            WHERE e.id = $1 AND k.query = $2 AND l.created_at >= e.start_at AND NOT (l.created_at >= e.end_at)
            ORDER BY l.uniq_entry_id, l.created_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = eventId });
        command.Parameters.Add(new NpgsqlParameter { Value = query });
        await using var reader = await command.ExecuteReaderAsync();
        long origin = new DateTimeOffset(firstMinute).ToUnixTimeSeconds();
        while (await reader.ReadAsync())
        {
            series[(reader.GetInt64(0) - origin) / 60]++;
        }

        return series;
    }

    private async Task<int> IndependentTotalAsync(Guid eventId) => (int)await database.ScalarAsync<long>("""
        SELECT count(*) FROM uniq_entries u WHERE EXISTS (
            SELECT 1 FROM uniq_entry_keywords l JOIN keywords k ON k.id = l.keyword_id JOIN events e ON e.id = k.event_id
            WHERE l.uniq_entry_id = u.id AND e.id = $1 AND l.created_at >= e.start_at AND l.created_at < e.end_at)
        """, eventId);
}
