using System.Collections.Concurrent;
using Npgsql;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.Storage;

namespace Pulse.Tests.Cluster;

/// <summary>
/// Trigger mode (docs/design.md §9): an INSERT, UPDATE, DELETE or TRUNCATE on <c>uniq_entry_keywords</c>
/// alone, no POST, reaches subscribers; one statement sends one NOTIFY per event it touched.
/// </summary>
[Trait("Category", "binary")] public sealed class TriggerModeTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);

    // Events that ended an hour ago: the minute refresh never recomputes them, so only a NOTIFY of the
    // trigger can bring a change to the screen (a running event would also update at a minute's turn).
    private static readonly DateTime End = DateTime.UtcNow.AddHours(-1);
    private static readonly DateTime Start = End.AddHours(-2);
    private static readonly DateTime Inside = End.AddMinutes(-30);

    [Fact]
    public async Task TriggerInstalledByMigrate_InsertWithoutPost_SubscribersOnTwoNodesGetUpdate()
    {
        const string Installed = "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'uniq_entry_keywords'::regclass AND tgname LIKE 'pulse_notify%'";
        var trigger = new Dictionary<string, string> { ["PULSE_Notifications__DatabaseTrigger"] = "true" };
        var (code, text) = await PulseProcess.RunAsync(["migrate"], database.Url, trigger);
        Assert.True(code == 0, text);
        Assert.Equal(Migrator.Triggers.Length, await database.ScalarAsync<long>(Installed));

        await using var a = await PulseProcess.StartAsync(database.Url);
        await using var b = await PulseProcess.StartAsync(database.Url);
        var (eventId, keyword) = await ClusterKit.CreateEventAsync(database);
        await using var onA = await PhoenixClient.ConnectAndJoinAsync(a.WebSocketUri, $"event:{eventId:D}");
        await using var onB = await PhoenixClient.ConnectAndJoinAsync(b.WebSocketUri, $"event:{eventId:D}");

        await database.InsertEntryAsync(DateTime.UtcNow, keyword);

        await onA.WaitForTotalAsync(1, Delivery);
        await onB.WaitForTotalAsync(1, Delivery);
        Assert.Equal("update", onB.LatestEvent);

        // And off again: migrate without the setting removes every trigger.
        (code, text) = await PulseProcess.RunAsync(["migrate"], database.Url);
        Assert.True(code == 0, text);
        Assert.Equal(0, await database.ScalarAsync<long>(Installed));
    }

    [Fact]
    public async Task TriggerOn_InsertThenUpdateBetweenSidesThenDelete_SubscriberSeesEachChange()
    {
        await using var mode = await TriggerModeAsync();
        var (eventId, kw) = await database.CreateEventAsync("Spam cup", Start, End, ("Barça", "#b"), ("Madrid", "#m"));
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(0, (await client.JoinAsync($"event:{eventId}", timeout: Delivery)).Total);

        // INSERT: three links in one statement.
        await InsertLinksAsync(kw["#b"], 3, Inside);
        var inserted = await WaitForAsync(client, m => m.Total == 3);
        Assert.Equal("update", inserted.Event);

        // UPDATE: two links move to the other side; the total stays, the sides change.
        Assert.Equal(2, await MoveLinksAsync(kw["#b"], kw["#m"], 2));
        var moved = await WaitForAsync(client, m => m.Counts["Madrid"] == 2);
        Assert.Equal((1, 2, 3, "update"), (moved.Counts["Barça"], moved.Counts["Madrid"], moved.Total, moved.Event));

        // DELETE: the Madrid links were spam; the count goes down.
        Assert.Equal(2, await database.ExecuteAsync("DELETE FROM uniq_entry_keywords WHERE keyword_id = $1", kw["#m"]));
        var deleted = await WaitForAsync(client, m => m.Total == 1);
        Assert.Equal((1, 0, "update"), (deleted.Counts["Barça"], deleted.Counts["Madrid"], deleted.Event));
    }

    [Fact]
    public async Task TriggerOn_UpdateMovesLinksToAnotherEvent_BothEventsUpdate()
    {
        await using var mode = await TriggerModeAsync();
        var (from, fromKw) = await database.CreateEventAsync("From cup", Start, End, ("Home", "#from"));
        var (to, toKw) = await database.CreateEventAsync("To cup", Start, End, ("Away", "#to"));
        await InsertLinksAsync(fromKw["#from"], 2, Inside);
        await using var server = await TestServer.StartAsync(database);
        await using var onFrom = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        await using var onTo = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(2, (await onFrom.JoinAsync($"event:{from}", timeout: Delivery)).Total);
        Assert.Equal(0, (await onTo.JoinAsync($"event:{to}", timeout: Delivery)).Total);

        Assert.Equal(2, await MoveLinksAsync(fromKw["#from"], toKw["#to"], 2));

        Assert.Equal("update", (await WaitForAsync(onFrom, m => m.Total == 0)).Event);
        Assert.Equal("update", (await WaitForAsync(onTo, m => m.Total == 2)).Event);
    }

    [Fact]
    public async Task TriggerOn_TruncateLinks_EveryEventWithKeywordsUpdates()
    {
        await using var mode = await TriggerModeAsync();
        var (eventId, kw) = await database.CreateEventAsync("Reset cup", Start, End, ("Home", "#reset"));
        await InsertLinksAsync(kw["#reset"], 4, Inside);
        await using var server = await TestServer.StartAsync(database);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(4, (await client.JoinAsync($"event:{eventId}", timeout: Delivery)).Total);

        // TRUNCATE triggers see no rows (no transition tables): every event with keywords is notified.
        await database.ExecuteAsync("TRUNCATE uniq_entry_keywords");

        Assert.Equal("update", (await WaitForAsync(client, m => m.Total == 0)).Event);
    }

    [Fact]
    public async Task TriggerOn_OneStatementPerOperationOf1000RowsOfOneEvent_OneNotifyForThatEvent()
    {
        await using var mode = await TriggerModeAsync();
        var (big, bigKw) = await database.CreateEventAsync("Big cup", Start, End, ("A", "#big-a"), ("B", "#big-b"));
        var (small, smallKw) = await database.CreateEventAsync("Small cup", Start, End, ("A", "#small"));
        await using var listener = await ListenAsync();

        // INSERT: 1,000 links of one event and one of another, in one statement; the trigger function
        // runs once for the statement (a row-level trigger would run 1,001 times).
        Assert.Equal(1, await InStatementAsync(
            "WITH e AS (INSERT INTO uniq_entries (hashtags, flat_text, kind, created_at) SELECT '{}', 'tweet', 1, $3 FROM generate_series(1, 1001) RETURNING id), " +
            "n AS (SELECT id, row_number() OVER () AS i FROM e) " +
            "INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT id, CASE WHEN i = 1 THEN $2 ELSE $1 END, $3 FROM n",
            bigKw["#big-a"], smallKw["#small"], Inside));
        await listener.ExpectAsync([big, small]);

        // UPDATE: the 1,000 links move to the other side of the same event.
        Assert.Equal(1, await InStatementAsync("UPDATE uniq_entry_keywords SET keyword_id = $2 WHERE keyword_id = $1", bigKw["#big-a"], bigKw["#big-b"]));
        await listener.ExpectAsync([big]);

        // DELETE: all 1,000.
        Assert.Equal(1, await InStatementAsync("DELETE FROM uniq_entry_keywords WHERE keyword_id = $1", bigKw["#big-b"]));
        await listener.ExpectAsync([big]);
    }

    [Fact]
    public async Task TriggerOff_DeleteOfLinks_NoNotify()
    {
        var (_, kw) = await database.CreateEventAsync("Quiet cup", Start, End, ("A", "#quiet"));
        await using (await TriggerModeAsync())
        {
            await InsertLinksAsync(kw["#quiet"], 2, Inside);
        }

        await using var listener = await ListenAsync();
        await database.ExecuteAsync("DELETE FROM uniq_entry_keywords WHERE keyword_id = $1", kw["#quiet"]);
        await InsertLinksAsync(kw["#quiet"], 1, Inside);

        await listener.ExpectAsync([]);
    }

    /// <summary>Trigger mode on for one test, off again after it (the fixture's database is shared by the class).</summary>
    private async Task<AsyncCleanup> TriggerModeAsync()
    {
        await new Migrator(database.DataSource).MigrateAsync(databaseTrigger: true, CancellationToken.None);
        return new AsyncCleanup(() => new Migrator(database.DataSource).MigrateAsync(databaseTrigger: false, CancellationToken.None));
    }

    private Task<int> InsertLinksAsync(Guid keyword, int count, DateTime createdAt) => database.ExecuteAsync(
        "WITH e AS (INSERT INTO uniq_entries (hashtags, flat_text, kind, created_at) SELECT '{}', 'tweet', 1, $2 FROM generate_series(1, $3) RETURNING id) " +
        "INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT id, $1, $2 FROM e",
        keyword, createdAt, count);

    private Task<int> MoveLinksAsync(Guid fromKeyword, Guid toKeyword, int count) => database.ExecuteAsync(
        "UPDATE uniq_entry_keywords SET keyword_id = $2 WHERE id IN (SELECT id FROM uniq_entry_keywords WHERE keyword_id = $1 ORDER BY id LIMIT $3)",
        fromKeyword, toKeyword, count);

    /// <summary>
    /// Runs one statement in a transaction of its own and returns how many times the trigger function
    /// ran in it (<c>track_functions</c> for this session; the test user is a superuser).
    /// </summary>
    private async Task<long> InStatementAsync(string sql, params object[] parameters)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using (var track = new NpgsqlCommand("SET track_functions = 'all'", connection))
        {
            await track.ExecuteNonQueryAsync();
        }

        await using var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            foreach (var p in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = p });
            }

            Assert.True(await command.ExecuteNonQueryAsync() >= 1000);
        }

        long calls;
        await using (var count = new NpgsqlCommand("SELECT coalesce(pg_stat_get_xact_function_calls('pulse_notify_link_changes'::regproc), 0)", connection, transaction))
        {
            calls = (long)(await count.ExecuteScalarAsync())!;
        }

        await transaction.CommitAsync();
        return calls;
    }

    private async Task<NotifyListener> ListenAsync()
    {
        var connection = await database.DataSource.OpenConnectionAsync();
        var listener = new NotifyListener(connection);
        await using var listen = new NpgsqlCommand("LISTEN " + Pulse.Cluster.NotificationBus.Channel, connection);
        await listen.ExecuteNonQueryAsync();
        return listener;
    }

    private static async Task<InboxMessage> WaitForAsync(PhoenixClient client, Func<InboxMessage, bool> match)
    {
        var deadline = DateTime.UtcNow + Delivery;
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            if (await client.ReceiveAsync(deadline - DateTime.UtcNow) is not { } message)
            {
                break;
            }

            if (message.Event != "phx_reply" && match(message))
            {
                return message;
            }

            seen.Add($"{message.Event}:{message.Total}");
        }

        throw new TimeoutException($"no matching broadcast within {Delivery.TotalSeconds} s; seen [{string.Join(", ", seen)}]");
    }

    /// <summary>A LISTEN connection counting the notifications on Pulse's channel.</summary>
    private sealed class NotifyListener : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly ConcurrentQueue<string> _payloads = new();

        public NotifyListener(NpgsqlConnection connection)
        {
            _connection = connection;
            _connection.Notification += (_, args) => _payloads.Enqueue(args.Payload);
        }

        /// <summary>
        /// Waits for the notifications of one statement: exactly one per event in <paramref name="events"/>,
        /// each "&lt;id&gt; update", and nothing else within a quiet second after them. Then forgets them.
        /// </summary>
        public async Task ExpectAsync(Guid[] events)
        {
            var deadline = DateTime.UtcNow + Delivery;
            while (_payloads.Count < events.Length && DateTime.UtcNow < deadline)
            {
                await _connection.WaitAsync(TimeSpan.FromMilliseconds(200));
            }

            // Any extra NOTIFY of the statement has been delivered with the others (one commit); a
            // quiet second more catches a late or duplicate one.
            var quiet = DateTime.UtcNow.AddSeconds(1);
            while (DateTime.UtcNow < quiet)
            {
                await _connection.WaitAsync(TimeSpan.FromMilliseconds(100));
            }

            var payloads = _payloads.ToArray().Order(StringComparer.Ordinal).ToArray();
            _payloads.Clear();
            Assert.Equal(events.Select(e => $"{e:D} update").Order(StringComparer.Ordinal).ToArray(), payloads);
        }

        public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
    }
}
