namespace Pulse.Phoenix;

/// <summary>The serializer a socket picked with its <c>vsn</c> query parameter (docs/design.md §7).</summary>
internal enum PhoenixVersion
{
    /// <summary><c>vsn=1.0.x</c> or none: object messages <c>{topic, event, payload, ref, join_ref}</c>.</summary>
    V1 = 1,

    /// <summary><c>vsn=2.0.x</c>: array messages <c>[join_ref, ref, topic, event, payload]</c> (phoenix.js).</summary>
    V2 = 2,
}

/// <summary>
/// One client message. After a failed decode the fields hold whatever could be read before the
/// fault, so a message with a ref and a topic can still be answered "malformed message".
/// </summary>
/// <remarks>
/// <see cref="Payload"/> is the raw JSON value, a slice of the received buffer: valid only while the
/// transport's <c>OnTextMessageAsync</c> call is running. Refs are strings (phoenix.js sends strings);
/// a numeric ref is kept as its decimal text and echoed back as a string.
/// </remarks>
internal readonly record struct PhoenixMessage(
    string? JoinRef, string? Ref, string? Topic, string? Event, ReadOnlyMemory<byte> Payload);

/// <summary>Event and topic names of the Phoenix protocol.</summary>
internal static class PhoenixNames
{
    public const string Join = "phx_join";
    public const string Leave = "phx_leave";
    public const string Reply = "phx_reply";
    public const string Close = "phx_close";
    public const string Heartbeat = "heartbeat";

    /// <summary>The socket-level topic that carries heartbeats.</summary>
    public const string PhoenixTopic = "phoenix";
}
