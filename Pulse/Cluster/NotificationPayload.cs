using System.Diagnostics.CodeAnalysis;
using Pulse.Broadcasting;

namespace Pulse.Cluster;

/// <summary>
/// The NOTIFY payload on <see cref="NotificationBus.Channel"/>: <c>"&lt;event id&gt; &lt;event name&gt;"</c>,
/// the id in lower-case "D" form (36 characters). The trigger function of migration 002 writes the
/// same shape with the name <c>update</c>. At most 36 + 1 + <see cref="Notification.MaxEventNameLength"/> (255) × 4 UTF-8 bytes = 1,057 bytes,
/// far under PostgreSQL's 8,000-byte payload limit.
/// </summary>
internal static class NotificationPayload
{
    private const int IdLength = 36;

    public static string Format(Notification notification) => notification.EventId.ToString("D") + " " + notification.EventName;

    /// <summary>
    /// Parses a payload; false for anything malformed. The channel is open to every role that can
    /// connect, so the name is held to the rules a POST meets (<see cref="Notification.CheckEventName"/>).
    /// </summary>
    public static bool TryParse(string payload, [NotNullWhen(true)] out Notification? notification)
    {
        notification = null;
        if (payload.Length < IdLength + 2 || payload[IdLength] != ' ' || !Guid.TryParseExact(payload.AsSpan(0, IdLength), "D", out var id))
        {
            return false;
        }

        var name = payload[(IdLength + 1)..];
        if (Notification.CheckEventName(name) is not null)
        {
            return false;
        }

        notification = new Notification(id, name);
        return true;
    }
}
