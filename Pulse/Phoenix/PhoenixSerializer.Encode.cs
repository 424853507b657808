using System.Text.Json;

namespace Pulse.Phoenix;

/// <summary>The server's messages; identical payloads in both versions, only the envelope differs.</summary>
internal abstract partial class PhoenixSerializer
{
    private static readonly JsonEncodedText StatusKey = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText ResponseKey = JsonEncodedText.Encode("response");
    private static readonly JsonEncodedText ReasonKey = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText ChannelKey = JsonEncodedText.Encode("channel");
    private static readonly JsonEncodedText ParamsKey = JsonEncodedText.Encode("params");
    private static readonly JsonEncodedText SnapshotKey = JsonEncodedText.Encode("snapshot");
    private static readonly JsonEncodedText Ok = JsonEncodedText.Encode("ok");
    private static readonly JsonEncodedText Error = JsonEncodedText.Encode("error");

    /// <summary><c>phx_reply</c> <c>{"status":"ok","response":{}}</c> (heartbeat, leave).</summary>
    public void WriteOkReply(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic)
    {
        WriteReplyStart(writer, joinRef, @ref, topic, Ok);
        writer.WriteStartObject();
        writer.WriteEndObject();
        WriteReplyEnd(writer);
    }

    /// <summary><c>phx_reply</c> <c>{"status":"error","response":{"reason":…}}</c>.</summary>
    public void WriteErrorReply(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, JsonEncodedText reason)
    {
        WriteReplyStart(writer, joinRef, @ref, topic, Error);
        writer.WriteStartObject();
        writer.WriteString(ReasonKey, reason);
        writer.WriteEndObject();
        WriteReplyEnd(writer);
    }

    /// <summary>
    /// The join reply <c>{"status":"ok","response":{"channel","params","snapshot"}}</c>; params and
    /// snapshot are copied as raw JSON, never re-parsed.
    /// </summary>
    public void WriteJoinReply(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic,
        ReadOnlySpan<byte> joinParams, ReadOnlySpan<byte> snapshotJson)
    {
        WriteReplyStart(writer, joinRef, @ref, topic, Ok);
        writer.WriteStartObject();
        writer.WriteString(ChannelKey, topic);
        writer.WritePropertyName(ParamsKey);
        writer.WriteRawValue(joinParams, skipInputValidation: true);
        writer.WritePropertyName(SnapshotKey);
        writer.WriteRawValue(snapshotJson, skipInputValidation: true);
        writer.WriteEndObject();
        WriteReplyEnd(writer);
    }

    /// <summary>
    /// <c>phx_close</c> for the join <paramref name="joinRef"/>; as Phoenix does, its ref is the join ref
    /// and its payload <c>{}</c>.
    /// </summary>
    public void WriteClose(Utf8JsonWriter writer, string? joinRef, string topic)
    {
        WriteEnvelopeStart(writer, joinRef, joinRef, topic, PhoenixNames.Close);
        writer.WriteStartObject();
        writer.WriteEndObject();
        WriteEnvelopeEnd(writer);
    }

    /// <summary>A broadcast <c>[null, null, topic, event, payload]</c>; the payload is copied raw.</summary>
    public void WriteBroadcast(Utf8JsonWriter writer, string topic, string eventName, ReadOnlySpan<byte> payloadJson)
    {
        WriteEnvelopeStart(writer, null, null, topic, eventName);
        writer.WriteRawValue(payloadJson, skipInputValidation: true);
        WriteEnvelopeEnd(writer);
    }

    private void WriteReplyStart(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, JsonEncodedText status)
    {
        WriteEnvelopeStart(writer, joinRef, @ref, topic, PhoenixNames.Reply);
        writer.WriteStartObject();
        writer.WriteString(StatusKey, status);
        writer.WritePropertyName(ResponseKey);
    }

    private void WriteReplyEnd(Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        WriteEnvelopeEnd(writer);
    }
}
