using System.Diagnostics;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Pipeline;

/// <summary>docs/design.md §1: a reconnect storm on a computed event costs the database nothing.</summary>
[Trait("Category", "socket")] public sealed class JoinStormTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    // 2,000 joins as 200 sockets × 10 join/leave rounds: the machine's budget is a few hundred
    // sockets, and every round's joins hit the same cached snapshot as 2,000 distinct sockets would
    // (a join reads the cache; nothing in its path depends on the socket being new).
    private const int Sockets = 200;
    private const int Rounds = 10;

    [Fact]
    public async Task Join_TwoThousandOnComputedEvent_AllAnsweredWithSnapshotAndNoStatementExecuted()
    {
        await using var statements = await StatementCounter.OpenAsync(database);

        // Ended an hour ago: no minute turn marks it, so no tick may run a statement during the storm.
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromHours(1));
        var (eventId, kw) = await database.CreateEventAsync("Storm", start, end, ("A", "#a"), ("B", "#b"));
        for (int i = 0; i < 20; i++)
        {
            await database.InsertEntryAsync(start.AddMinutes(i * 2), i % 3 == 0 ? [kw["#a"], kw["#b"]] : [kw[i % 2 == 0 ? "#a" : "#b"]]);
        }

        string topic = PipelineKit.Topic(eventId);
        await using var server = await TestServer.StartAsync(database);
        await using var first = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var computed = await first.JoinAsync(topic, timeout: PipelineKit.ReplyTimeout);
        Assert.Equal("ok", computed.Status);
        var clients = await ConnectAllAsync(server);
        try
        {
            long joinsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ChannelJoinsTotal);
            long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);
            long viewModelBefore = await statements.ViewModelAsync();
            var statementsBefore = await statements.ByStatementAsync();
            long allBefore = await statements.AllAsync();
            var clock = Stopwatch.StartNew();

            var replies = await Task.WhenAll(clients.Select(client => JoinAndLeaveAsync(client, topic)));
            var stormTook = clock.Elapsed;

            // One tick (500 ms) more: a statement caused by the storm but run by the ticker would show.
            await Task.Delay(700);
            long viewModel = await statements.ViewModelAsync() - viewModelBefore;
            long all = await statements.AllAsync() - allBefore;
            string ran = StatementCounter.Growth(statementsBefore, await statements.ByStatementAsync());
            long computations = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) - computationsBefore;
            long joins = server.Server.Metrics.ReadLong(PulseMetrics.ChannelJoinsTotal) - joinsBefore;
            output.WriteLine($"{Sockets * Rounds} joins on {Sockets} sockets in {stormTook.TotalMilliseconds:F0} ms; view-model executions {viewModel}, all statements {all}, computations {computations}");

            var flat = replies.SelectMany(r => r).ToList();
            Assert.Equal(Sockets * Rounds, flat.Count);
            Assert.All(flat, reply =>
            {
                Assert.Equal("ok", reply.Status);
                Assert.Equal(topic, reply.Payload.GetProperty("response").GetProperty("channel").GetString());
                Assert.Equal(computed.Version, reply.Version);
                Assert.Equal(computed.Total, reply.Total);
            });
            Assert.Equal(Sockets * Rounds, joins);
            Assert.Equal(0, computations);
            Assert.Equal(0, viewModel);
            Assert.True(all == 0, $"{all} statements ran during the storm:\n{ran}");
            Assert.Equal(1, server.Server.Hub.SubscriberCount(topic));
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }

    private static async Task<InboxMessage[]> JoinAndLeaveAsync(PhoenixClient client, string topic)
    {
        var replies = new InboxMessage[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            var reply = await client.JoinAsync(topic, timeout: PipelineKit.ReplyTimeout);
            replies[round] = reply;
            Assert.Equal("ok", (await client.LeaveAsync(topic, reply.JoinRef!, PipelineKit.ReplyTimeout)).Status);
        }

        return replies;
    }

    // 25 handshakes at a time: a burst of 200 at once only measures the accept queue.
    private static async Task<List<PhoenixClient>> ConnectAllAsync(TestServer server)
    {
        var clients = new List<PhoenixClient>(Sockets);
        try
        {
            for (int batch = 0; batch < Sockets; batch += 25)
            {
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => PhoenixClient.ConnectAsync(server.WebSocketUri()))));
            }
        }
        catch
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
            throw;
        }

        return clients;
    }
}
