namespace Pulse.Broadcasting;

/// <summary>
/// "Something changed for this event": from <c>POST /v1/events</c>, the database trigger or another
/// node (DESIGN §1). <see cref="EventName"/> is the name the next broadcast carries (DESIGN §7).
/// </summary>
internal readonly record struct Notification(Guid EventId, string EventName)
{
    /// <summary>The event name of notifications from the database trigger, and of recomputes nobody named.</summary>
    public const string DatabaseEventName = "update";
}
