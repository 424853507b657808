using System.Diagnostics;
using Npgsql;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// Readers' computations (a cold join) and ticks share <c>Broadcast:MaxConcurrentComputations</c>:
/// observed in PostgreSQL itself, as the view-model statements waiting at once on a held lock.
/// </summary>
// Serial: the peak of waiting statements must reach the bound while 30 computations start at once; a
// machine loaded by parallel classes spreads their starts.
[Collection(SerialPipeline.Name)]
[Trait("Category", "socket")] public sealed class ComputationBoundTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int ColdJoins = 20;
    private const int Ticks = 10;

    // The first statement of a computation (CountingRead.HeaderSql) by its opening comment:
    // pg_stat_activity keeps only the first track_activity_query_size (1 KiB) of a query's text.
    private const string Waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '-- pulse: counting header%'";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Computations_TwentyColdJoinsAndTenTicksAtOnce_NeverMoreThanTheBoundInFlight(int bound)
    {
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var events = new List<Guid>();
        for (int i = 0; i < ColdJoins + Ticks; i++)
        {
            events.Add((await database.CreateEventAsync($"Cold {i}", start, end, ("A", "#a"))).EventId);
        }

        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.MaxConcurrentComputations = bound);
        var clients = await Task.WhenAll(Enumerable.Range(0, ColdJoins).Select(_ => PhoenixClient.ConnectAsync(server.WebSocketUri())));
        try
        {
            // Every view-model statement now waits on this lock while it holds its slot and a pooled connection.
            await using var locker = await database.DataSource.OpenConnectionAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await using (var lockKeywords = new NpgsqlCommand("LOCK TABLE keywords IN ACCESS EXCLUSIVE MODE", locker, transaction))
            {
                await lockKeywords.ExecuteNonQueryAsync();
            }

            var joins = clients.Select((client, i) => client.JoinAsync(PipelineKit.Topic(events[i]), timeout: TimeSpan.FromSeconds(30))).ToArray();
            foreach (var eventId in events.Skip(ColdJoins))
            {
                await PipelineKit.PostAsync(server, eventId, "tweet");
            }

            int peak = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5))
            {
                peak = Math.Max(peak, (int)await database.ScalarAsync<long>(Waiting));
                await Task.Delay(20);
            }

            await transaction.CommitAsync();
            var replies = await Task.WhenAll(joins);
            output.WriteLine($"MaxConcurrentComputations={bound}: {ColdJoins} cold joins + {Ticks} ticks, at most {peak} view-model statements at once");
            Console.WriteLine($"[computations] bound {bound}: {ColdJoins} cold joins + {Ticks} ticks held on a lock -> at most {peak} statements at once (the pool holds 10)");

            Assert.All(replies, reply => Assert.Equal("ok", reply.Status));
            Assert.Equal(bound, peak);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }
}
