namespace Pulse.Phoenix;

/// <summary>
/// The topic of one event's channel, <c>event:&lt;uuid&gt;</c>: the one place that formats and parses
/// it, for joins and for the <c>topic</c> of <c>POST /v1/events</c>.
/// </summary>
/// <remarks>
/// Case rule (docs/design.md §5: ids are accepted in any case and written in lower case; topics use the
/// lower-case form): the prefix and the id are read in any case, the id only in its 36-character
/// "D" form and nothing around it (<see cref="Guid.TryParseExact(ReadOnlySpan{char}, ReadOnlySpan{char}, out Guid)"/>
/// alone would accept spaces around the id); what Pulse writes is always <see cref="Format"/>'s lower-case form.
/// </remarks>
internal static class EventTopic
{
    public const string Prefix = "event:";

    // "6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10": 32 hex digits and 4 hyphens.
    private const int IdLength = 36;

    /// <summary>The lower-case topic of <paramref name="eventId"/>.</summary>
    public static string Format(Guid eventId) => Prefix + eventId.ToString("D");

    /// <summary>Reads <c>event:&lt;uuid&gt;</c> by the case rule above; <c>false</c> for anything else.</summary>
    public static bool TryParse(string topic, out Guid eventId)
    {
        if (topic.Length == Prefix.Length + IdLength
            && topic.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            && Guid.TryParseExact(topic.AsSpan(Prefix.Length), "D", out eventId))
        {
            return true;
        }

        eventId = Guid.Empty;
        return false;
    }

    /// <summary>The lower-case form of an event topic; any other topic unchanged.</summary>
    public static string Canonical(string topic) => TryParse(topic, out var eventId) ? Format(eventId) : topic;
}
