using System.Text.Json;

namespace Pulse.Phoenix;

/// <summary>
/// <c>vsn=1.0.x</c> (and no <c>vsn</c>): <c>{"topic","event","payload","ref","join_ref"?}</c> in any
/// key order; unknown keys are skipped; topic, event and payload are required, a missing ref is null.
/// </summary>
internal sealed class PhoenixV1Serializer : PhoenixSerializer
{
    private static readonly JsonEncodedText TopicKey = JsonEncodedText.Encode("topic");
    private static readonly JsonEncodedText EventKey = JsonEncodedText.Encode("event");
    private static readonly JsonEncodedText RefKey = JsonEncodedText.Encode("ref");
    private static readonly JsonEncodedText JoinRefKey = JsonEncodedText.Encode("join_ref");
    private static readonly JsonEncodedText PayloadKey = JsonEncodedText.Encode("payload");

    public override PhoenixVersion Version => PhoenixVersion.V1;

    private protected override bool ReadMessage(ReadOnlyMemory<byte> data, ref Utf8JsonReader reader, ref MessageFields fields)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool hasPayload = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool ok;
            if (reader.ValueTextEquals("topic"u8))
            {
                ok = TryReadName(ref reader, out fields.Topic);
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                ok = TryReadName(ref reader, out fields.Event);
            }
            else if (reader.ValueTextEquals("ref"u8))
            {
                ok = TryReadRef(ref reader, out fields.Ref);
            }
            else if (reader.ValueTextEquals("join_ref"u8))
            {
                ok = TryReadRef(ref reader, out fields.JoinRef);
            }
            else if (reader.ValueTextEquals("payload"u8))
            {
                ok = hasPayload = TryReadPayload(data, ref reader, out fields.Payload);
            }
            else
            {
                ok = reader.Read() && reader.TrySkip();
            }

            if (!ok)
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && fields.Topic is not null && fields.Event is not null && hasPayload;
    }

    public override void WriteEnvelopeStart(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, string eventName)
    {
        writer.WriteStartObject();
        writer.WriteString(TopicKey, topic);
        writer.WriteString(EventKey, eventName);
        WriteRefProperty(writer, RefKey, @ref);
        WriteRefProperty(writer, JoinRefKey, joinRef);
        writer.WritePropertyName(PayloadKey);
    }

    public override void WriteEnvelopeEnd(Utf8JsonWriter writer) => writer.WriteEndObject();

    private static void WriteRefProperty(Utf8JsonWriter writer, JsonEncodedText key, string? value)
    {
        writer.WritePropertyName(key);
        WriteRef(writer, value);
    }
}
