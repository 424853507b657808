using System.Net;
using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// The cold path (docs/design.md §18): joins and GETs that arrive while an event's first full read
/// runs wait for that one read; none starts its own, and all answer with the same numbers.
/// </summary>
[Trait("Category", "socket")] public sealed class ColdComputationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int Joins = 40;
    private const int Gets = 20;

    [Fact]
    public async Task JoinsAndGetsDuringColdRead_OneFullReadAnswersAll()
    {
        await using var statements = await StatementCounter.OpenAsync(database);
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromHours(2));
        var (eventId, kw) = await database.CreateEventAsync("Cold cup", start, end, ("A", "#a"), ("B", "#b"));
        Assert.Equal(20_000, await database.ExecuteAsync(
            "WITH e AS (INSERT INTO uniq_entries (hashtags, flat_text, kind, created_at) SELECT '{}', 't', 1, $3 FROM generate_series(1, 20000) RETURNING id), " +
            "n AS (SELECT id, row_number() OVER () AS i FROM e) " +
            "INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT id, CASE WHEN i % 2 = 0 THEN $1 ELSE $2 END, $3 + (i * interval '300 ms') FROM n",
            kw["#a"], kw["#b"], start));
        await using var server = await TestServer.StartAsync(database);
        var clients = await Task.WhenAll(Enumerable.Range(0, Joins).Select(_ => PhoenixClient.ConnectAsync(server.WebSocketUri())));
        try
        {
            long readsBefore = await statements.ViewModelAsync();

            // The first read now waits on this lock while the joins and GETs arrive behind it.
            await using var locker = await database.DataSource.OpenConnectionAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await using (var lockKeywords = new NpgsqlCommand("LOCK TABLE keywords IN ACCESS EXCLUSIVE MODE", locker, transaction))
            {
                await lockKeywords.ExecuteNonQueryAsync();
            }

            var joins = clients.Select(c => c.JoinAsync(PipelineKit.Topic(eventId), timeout: TimeSpan.FromSeconds(30))).ToArray();
            var gets = Enumerable.Range(0, Gets).Select(_ => server.Client.GetAsync($"/v1/events/{eventId:D}")).ToArray();
            await Task.Delay(500);
            await transaction.CommitAsync();

            var replies = await Task.WhenAll(joins);
            var responses = await Task.WhenAll(gets);
            Assert.All(replies, r => Assert.Equal(("ok", 20_000, 1L), (r.Status, r.Total, r.Version)));
            foreach (var response in responses)
            {
                using (response)
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.Contains("\"total\":20000", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
            }

            Assert.Equal(1, await statements.ViewModelAsync() - readsBefore);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }
}
