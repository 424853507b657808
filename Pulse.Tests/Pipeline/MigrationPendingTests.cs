using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// A node served before <c>pulse migrate</c> added <c>uniq_entry_keywords.pulse_xact</c> (migration 005,
/// docs/design.md §18): its deltas cannot run, so it reads every link each time and stays exact.
/// </summary>
[Trait("Category", "socket")] public sealed class MigrationPendingTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task ColumnMissing_TicksFallBackToFullReads_NumbersStayExact()
    {
        // This class's own database, as it was before migration 005.
        await database.ExecuteAsync("ALTER TABLE uniq_entry_keywords DROP COLUMN pulse_xact");
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var (eventId, kw) = await database.CreateEventAsync("Old schema cup", start, end, ("A", "#a"));
        await database.InsertEntryAsync(start.AddMinutes(1), kw["#a"]);
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.VerifySeconds = 0);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(1, (await client.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Total);

        for (int expected = 2; expected <= 3; expected++)
        {
            await database.InsertEntryAsync(start.AddMinutes(expected), kw["#a"]);
            await PipelineKit.PostAsync(server, eventId, "tweet");
            InboxMessage? message;
            do
            {
                message = await client.ReceiveAsync(TimeSpan.FromSeconds(5));
            }
            while (message is not null && message.Event == "phx_reply");

            Assert.NotNull(message);
            Assert.Equal(expected, message.Total);
        }

        Assert.Equal(0, server.Server.Metrics.ReadLong(PulseMetrics.DatabaseErrorsTotal));
    }
}
