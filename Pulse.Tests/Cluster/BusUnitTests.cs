using Pulse.Cluster;

namespace Pulse.Tests.Cluster;

/// <summary>Pure parts of the bus: the payload, the backoff, the rate limit of error lines.</summary>
[Trait("Category", "unit")] public sealed class BusUnitTests
{
    private static readonly Guid Id = Guid.Parse("0b7c3d6e-1f2a-4b5c-8d9e-0a1b2c3d4e5f");

    [Fact]
    public void Payload_FormatThenParse_RoundTrips()
    {
        var notification = new Notification(Id, "tweet with spaces");
        Assert.True(NotificationPayload.TryParse(NotificationPayload.Format(notification), out var parsed));
        Assert.Equal(notification, parsed);
    }

    [Fact]
    public void Payload_TriggerShape_ParsesAsUpdate()
    {
        Assert.True(NotificationPayload.TryParse($"{Id:D} update", out var parsed));
        Assert.Equal(new Notification(Id, Notification.DatabaseEventName), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0b7c3d6e-1f2a-4b5c-8d9e-0a1b2c3d4e5f")]
    [InlineData("0b7c3d6e-1f2a-4b5c-8d9e-0a1b2c3d4e5f ")]
    [InlineData("0b7c3d6e-1f2a-4b5c-8d9e-0a1b2c3d4e5fx update")]
    [InlineData("not-a-uuid-at-all-but-36-characters! update")]
    [InlineData("0b7c3d6e-1f2a-4b5c-8d9e-0a1b2c3d4e5f phx_reply")]
    public void Payload_Malformed_Rejected(string payload) => Assert.False(NotificationPayload.TryParse(payload, out _));

    [Fact]
    public void Payload_NameAtLimit_AcceptedOneMore_Rejected()
    {
        Assert.True(NotificationPayload.TryParse($"{Id:D} {new string('n', 255)}", out _));
        Assert.False(NotificationPayload.TryParse($"{Id:D} {new string('n', 256)}", out _));
    }

    [Fact]
    public void Backoff_GrowsFromHundredMillisecondsAndIsCappedWithJitter()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(50), NotificationBus.Backoff(0, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), NotificationBus.Backoff(0, 1));
        Assert.InRange(NotificationBus.Backoff(2, 0.999999).TotalMilliseconds, 399, 400);
        Assert.Equal(NotificationBus.MaxBackoff / 2, NotificationBus.Backoff(1000, 0));
        Assert.True(NotificationBus.Backoff(1000, 0.999999) <= NotificationBus.MaxBackoff);
    }

    [Fact]
    public void LogLimiter_Flood_FirstThenOnePerIntervalWithCount()
    {
        var time = new FakeTimeProvider();
        var limiter = new LogLimiter(time, TimeSpan.FromSeconds(30));

        Assert.True(limiter.ShouldLog(out long suppressed));
        Assert.Equal(0, suppressed);
        for (int i = 0; i < 59; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.False(limiter.ShouldLog(out _));
        }

        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(limiter.ShouldLog(out suppressed));
        Assert.Equal(59, suppressed);
    }

    [Fact]
    public void LogLimiter_RecoveredThenFailsAgain_LogsAtOnce()
    {
        var time = new FakeTimeProvider();
        var limiter = new LogLimiter(time, TimeSpan.FromSeconds(30));
        Assert.False(limiter.Recovered(out _));
        Assert.True(limiter.ShouldLog(out _));
        Assert.False(limiter.ShouldLog(out _));

        Assert.True(limiter.Recovered(out long failures));
        Assert.Equal(1, failures);
        Assert.True(limiter.ShouldLog(out _));
    }
}
