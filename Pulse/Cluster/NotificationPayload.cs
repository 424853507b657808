using System.Diagnostics.CodeAnalysis;
using Pulse.Broadcasting;

namespace Pulse.Cluster;

/// <summary>
/// The NOTIFY payload on <see cref="NotificationBus.Channel"/>: <c>"&lt;event id&gt; &lt;event name&gt;"</c>,
/// the id in lower-case "D" form (36 characters). The trigger function of migration 002 writes the
/// same shape with the name <c>update</c>. At most 36 + 1 + 255 × 4 UTF-8 bytes = 1,057 bytes,
/// far under PostgreSQL's 8,000-byte payload limit.
/// </summary>
internal static class NotificationPayload
{
    /// <summary>Same bound as <c>POST /v1/events</c> (DESIGN §6).</summary>
    public const int MaxEventNameLength = 255;

    private const int IdLength = 36;

    public static string Format(Notification notification) => notification.EventId.ToString("D") + " " + notification.EventName;

    /// <summary>
    /// Parses a payload; false for anything malformed. The channel is open to every role that can
    /// connect, so the name is held to the rules a POST meets (a <c>phx_</c> name would impersonate
    /// the protocol's own events).
    /// </summary>
    public static bool TryParse(string payload, [NotNullWhen(true)] out Notification? notification)
    {
        notification = null;
        if (payload.Length < IdLength + 2 || payload[IdLength] != ' ' || !Guid.TryParseExact(payload.AsSpan(0, IdLength), "D", out var id))
        {
            return false;
        }

        var name = payload[(IdLength + 1)..];
        if (name.Length > MaxEventNameLength || name.StartsWith("phx_", StringComparison.Ordinal))
        {
            return false;
        }

        notification = new Notification(id, name);
        return true;
    }
}
