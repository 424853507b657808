namespace Pulse.Broadcasting;

/// <summary>Where notifications (POST, LISTEN/NOTIFY) go: the ticker coalesces them per event.</summary>
internal interface INotificationSink
{
    /// <summary>Marks the event dirty; the broadcast that follows carries <paramref name="eventName"/>. Never blocks.</summary>
    void Notify(Guid eventId, string eventName);
}
