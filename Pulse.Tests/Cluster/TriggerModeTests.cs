using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Cluster;

/// <summary>Trigger mode (DESIGN §9): an INSERT alone, no POST, reaches subscribers on every node.</summary>
public sealed class TriggerModeTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task TriggerInstalledByMigrate_InsertWithoutPost_SubscribersOnTwoNodesGetUpdate()
    {
        var trigger = new Dictionary<string, string> { ["PULSE_Notifications__DatabaseTrigger"] = "true" };
        var (code, text) = await PulseProcess.RunAsync(["migrate"], database.Url, trigger);
        Assert.True(code == 0, text);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname = 'pulse_notify_events'"));

        await using var a = await PulseProcess.StartAsync(database.Url);
        await using var b = await PulseProcess.StartAsync(database.Url);
        var (eventId, keyword) = await ClusterKit.CreateEventAsync(database);
        await using var onA = await PhoenixSubscriber.JoinAsync(a.WebSocketUri, eventId);
        await using var onB = await PhoenixSubscriber.JoinAsync(b.WebSocketUri, eventId);

        await database.InsertEntryAsync(DateTime.UtcNow, keyword);

        await onA.WaitForTotalAsync(1, TimeSpan.FromSeconds(10));
        await onB.WaitForTotalAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal("update", onB.LatestEvent);

        // And off again: migrate without the setting removes the trigger.
        (code, text) = await PulseProcess.RunAsync(["migrate"], database.Url);
        Assert.True(code == 0, text);
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname = 'pulse_notify_events'"));
    }
}
