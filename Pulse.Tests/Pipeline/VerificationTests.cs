using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// What a delta cannot see (docs/design.md §18), seen anyway: links deleted behind Pulse's back are found
/// by the periodic verification, which repairs the screen within one period and counts the drift;
/// a change of an event's keywords or window is seen by the next computation.
/// </summary>
[Trait("Category", "socket")] public sealed class VerificationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int Period = 2;

    [Fact]
    public async Task LinksDeletedWithoutTrigger_ScreenRepairedWithinOnePeriod_DriftCounted()
    {
        var (eventId, kw) = await RunningEventAsync("Spam cup");
        var spam = new[] { await database.InsertEntryAsync(Minutes(-10), kw["#a"]), await database.InsertEntryAsync(Minutes(-9), kw["#a"]) };
        await database.InsertEntryAsync(Minutes(-8), kw["#a"]);
        await database.InsertEntryAsync(Minutes(-7), kw["#b"]);
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.VerifySeconds = Period);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(4, (await client.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Total);

        // Spam removed by a job that does not tell Pulse (trigger mode off): no notification at all.
        Assert.Equal(2, await database.ExecuteAsync("DELETE FROM uniq_entry_keywords WHERE uniq_entry_id = ANY($1)", spam));
        var deletedAt = DateTime.UtcNow;

        var repaired = await WaitForAsync(client, m => m.Total == 2, TimeSpan.FromSeconds(Period + 3));
        Assert.NotNull(repaired);
        Assert.Equal((1, 1), (repaired.Counts["A"], repaired.Counts["B"]));
        Assert.InRange((DateTime.UtcNow - deletedAt).TotalSeconds, 0, Period + 1.5);
        Assert.Equal(2, server.Server.Metrics.ReadLong(PulseMetrics.CountDriftTotal));
        Assert.Equal((await PipelineKit.IndependentCountsAsync(database, eventId)).Total, repaired.Total);
    }

    [Fact]
    public async Task VerificationOff_DeletedLinksStayCounted_NoDrift()
    {
        var (eventId, kw) = await RunningEventAsync("Unverified cup");
        var spam = await database.InsertEntryAsync(Minutes(-10), kw["#a"]);
        await database.InsertEntryAsync(Minutes(-9), kw["#a"]);
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.VerifySeconds = 0);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(2, (await client.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Total);

        await database.ExecuteAsync("DELETE FROM uniq_entry_keywords WHERE uniq_entry_id = $1", spam);

        // Nothing tells Pulse, and it is told not to look: the deleted link stays counted (what 0 means).
        Assert.Null(await WaitForAsync(client, m => m.Total != 2, TimeSpan.FromSeconds(Period + 2)));
        Assert.Equal(0, server.Server.Metrics.ReadLong(PulseMetrics.CountDriftTotal));
    }

    [Fact]
    public async Task EndedEvent_LinksDeletedThenNotifiedAfterAPeriod_NotificationsComputationRepairs()
    {
        // Ended an hour ago: verified once at its first read (after its end), never again on its own.
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var (eventId, kw) = await database.CreateEventAsync("Ended spam cup", start, end, ("A", "#a"), ("B", "#b"));
        var spam = await database.InsertEntryAsync(start.AddMinutes(3), kw["#a"]);
        await database.InsertEntryAsync(start.AddMinutes(4), kw["#b"]);
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.VerifySeconds = Period);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(2, (await client.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Total);

        // Spam removed after the battle, then a POST (no trigger): a delta alone cannot see a deletion.
        await database.ExecuteAsync("DELETE FROM uniq_entry_keywords WHERE uniq_entry_id = $1", spam);
        await Task.Delay(TimeSpan.FromSeconds(Period + 0.5));
        await PipelineKit.PostAsync(server, eventId, "moderated");

        var repaired = await WaitForAsync(client, m => m.Total == 1, TimeSpan.FromSeconds(5));
        Assert.NotNull(repaired);
        Assert.Equal(1, server.Server.Metrics.ReadLong(PulseMetrics.CountDriftTotal));
    }

    [Fact]
    public async Task KeywordAddedAndWindowMoved_NextComputationCountsTheNewSidesAndWindow()
    {
        var (eventId, kw) = await RunningEventAsync("Growing cup");
        await database.InsertEntryAsync(Minutes(-10), kw["#a"]);
        await using var server = await TestServer.StartAsync(database, o => o.Broadcast.VerifySeconds = 0);
        await using var client = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        Assert.Equal(1, (await client.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout)).Total);

        // A third side with a link from before Pulse read the event: only a full read can count it.
        var c = await database.ScalarAsync<Guid>("INSERT INTO keywords (event_id, query, name) VALUES ($1, 'C', '#c') RETURNING id", eventId);
        await database.InsertEntryAsync(Minutes(-20), c);
        await PipelineKit.PostAsync(server, eventId, "keywords");
        var grown = await WaitForAsync(client, m => m.Counts.Count == 3, TimeSpan.FromSeconds(5));
        Assert.NotNull(grown);
        Assert.Equal((1, 1, 2), (grown.Counts["A"], grown.Counts["C"], grown.Total));

        // The window now starts after the #c link (20 minutes ago): it no longer counts; #a's does.
        await database.ExecuteAsync("UPDATE events SET start_at = $2 WHERE id = $1", eventId, Minutes(-15));
        await PipelineKit.PostAsync(server, eventId, "window");
        var moved = await WaitForAsync(client, m => m.Total == 1, TimeSpan.FromSeconds(5));
        Assert.NotNull(moved);
        Assert.Equal((1, 0, 0), (moved.Counts["A"], moved.Counts["B"], moved.Counts["C"]));
    }

    private static DateTime Minutes(int fromNow) => DateTime.UtcNow.AddMinutes(fromNow);

    private Task<(Guid EventId, Dictionary<string, Guid> Keywords)> RunningEventAsync(string name) =>
        database.CreateEventAsync(name, DateTime.UtcNow.AddMinutes(-30), DateTime.UtcNow.AddMinutes(30), ("A", "#a"), ("B", "#b"));

    private static async Task<InboxMessage?> WaitForAsync(PhoenixClient client, Func<InboxMessage, bool> match, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline && await client.ReceiveAsync(deadline - DateTime.UtcNow) is { } message)
        {
            if (message.Event != "phx_reply" && match(message))
            {
                return message;
            }
        }

        return null;
    }
}
