using System.Text.Json;

namespace Pulse.Phoenix;

/// <summary><c>vsn=2.0.x</c>: <c>[join_ref, ref, topic, event, payload]</c>, exactly five elements.</summary>
internal sealed class PhoenixV2Serializer : PhoenixSerializer
{
    public override PhoenixVersion Version => PhoenixVersion.V2;

    private protected override bool ReadMessage(ReadOnlyMemory<byte> data, ref Utf8JsonReader reader, ref MessageFields fields)
    {
        // Fields are read in wire order, so a message that breaks after its topic still has a ref and topic.
        return reader.Read() && reader.TokenType == JsonTokenType.StartArray
            && TryReadRef(ref reader, out fields.JoinRef)
            && TryReadRef(ref reader, out fields.Ref)
            && TryReadName(ref reader, out fields.Topic)
            && TryReadName(ref reader, out fields.Event)
            && TryReadPayload(data, ref reader, out fields.Payload)
            && reader.Read() && reader.TokenType == JsonTokenType.EndArray;
    }

    public override void WriteEnvelopeStart(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, string eventName)
    {
        writer.WriteStartArray();
        WriteRef(writer, joinRef);
        WriteRef(writer, @ref);
        writer.WriteStringValue(topic);
        writer.WriteStringValue(eventName);
    }

    public override void WriteEnvelopeEnd(Utf8JsonWriter writer) => writer.WriteEndArray();
}
