namespace Pulse.Broadcasting;

/// <summary>
/// "Something changed for this event": from <c>POST /v1/events</c>, the database trigger or another
/// node (docs/design.md §1). <see cref="EventName"/> is the name the next broadcast carries (docs/design.md §7).
/// </summary>
internal readonly record struct Notification(Guid EventId, string EventName)
{
    /// <summary>The event name of notifications from the database trigger, and of recomputes nobody named.</summary>
    public const string DatabaseEventName = "update";

    /// <summary>The longest event name, in characters (docs/design.md §6).</summary>
    public const int MaxEventNameLength = 255;

    /// <summary>
    /// The prefix of the Phoenix protocol's own events (<c>phx_reply</c>, <c>phx_close</c>…): a broadcast
    /// named so would impersonate them on every socket, so no notification may carry one.
    /// </summary>
    public const string ReservedPrefix = "phx_";

    private static readonly string LengthProblem = $"event must be 1 to {MaxEventNameLength} characters";
    private const string ReservedProblem = "event must not start with " + ReservedPrefix + " (reserved by the Phoenix protocol)";

    /// <summary>
    /// Why <paramref name="eventName"/> cannot name a notification, or <c>null</c> when it can: one rule
    /// for a POST and for a NOTIFY payload (the channel is open to every role that can connect).
    /// </summary>
    public static string? CheckEventName(string eventName) =>
        eventName.Length is 0 or > MaxEventNameLength ? LengthProblem
        : eventName.StartsWith(ReservedPrefix, StringComparison.Ordinal) ? ReservedProblem
        : null;
}
