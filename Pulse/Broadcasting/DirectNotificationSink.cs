namespace Pulse.Broadcasting;

/// <summary>Interim: computes on every notification (replaced by the ticker).</summary>
internal sealed class DirectNotificationSink(SnapshotService snapshots) : INotificationSink
{
    public void Notify(Guid eventId, string eventName)
    {
        Interlocked.Increment(ref Http.PulseMetrics.NotificationsTotal);
        _ = snapshots.ComputeAsync(eventId, eventName, CancellationToken.None);
    }
}
