using System.Buffers;
using System.Text.Json;

namespace Pulse.Phoenix;

/// <summary>
/// The Phoenix wire format of one <see cref="PhoenixVersion"/>: decoding client messages and
/// writing the envelope around a payload. The payloads themselves (replies, close, broadcasts) are
/// the same for both versions and live in <c>PhoenixSerializer.Encode.cs</c>.
/// </summary>
/// <remarks>Stateless and thread-safe; one instance per version.</remarks>
internal abstract partial class PhoenixSerializer
{
    public static readonly PhoenixSerializer V1 = new PhoenixV1Serializer();
    public static readonly PhoenixSerializer V2 = new PhoenixV2Serializer();

    public abstract PhoenixVersion Version { get; }

    public static PhoenixSerializer For(PhoenixVersion version) => version == PhoenixVersion.V1 ? V1 : V2;

    /// <summary>
    /// Decodes one text message. <c>false</c> = malformed; <paramref name="message"/> then holds the
    /// fields read before the fault (a ref and topic are enough to answer).
    /// </summary>
    public bool TryDecode(ReadOnlySequence<byte> utf8Message, out PhoenixMessage message)
    {
        // The payload is handed on as a slice, so it needs contiguous bytes; a message spread over
        // several pipe segments (rare: larger than a segment) is copied once.
        ReadOnlyMemory<byte> data = utf8Message.IsSingleSegment ? utf8Message.First : utf8Message.ToArray();
        var reader = new Utf8JsonReader(data.Span);
        var fields = default(MessageFields);
        bool ok;
        try
        {
            // A trailing second value ("[…][…]") makes Read() throw: one message, one value.
            ok = ReadMessage(data, ref reader, ref fields) && !reader.Read();
        }
        catch (JsonException)
        {
            ok = false;
        }
        catch (InvalidOperationException)
        {
            // GetString on an escape that does not transcode (a lone surrogate "\ud800").
            ok = false;
        }

        message = new PhoenixMessage(fields.JoinRef, fields.Ref, fields.Topic, fields.Event, ok ? fields.Payload : default);
        return ok;
    }

    /// <summary>Reads one whole message value; <c>false</c> on a shape that is valid JSON but not a message.</summary>
    private protected abstract bool ReadMessage(ReadOnlyMemory<byte> data, ref Utf8JsonReader reader, ref MessageFields fields);

    /// <summary>Writes everything before the payload value.</summary>
    public abstract void WriteEnvelopeStart(Utf8JsonWriter writer, string? joinRef, string? @ref, string topic, string eventName);

    /// <summary>Closes the envelope after the payload value.</summary>
    public abstract void WriteEnvelopeEnd(Utf8JsonWriter writer);

    private protected struct MessageFields
    {
        public string? JoinRef;
        public string? Ref;
        public string? Topic;
        public string? Event;
        public ReadOnlyMemory<byte> Payload;
    }

    /// <summary>A ref: a string, null, or a number kept as its text. Anything else is malformed.</summary>
    private protected static bool TryReadRef(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.Read())
        {
            return false;
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return true;
            case JsonTokenType.String:
                value = reader.GetString();
                return true;
            case JsonTokenType.Number:
                value = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A topic or event name: a string, the frequent ones without allocating.</summary>
    private protected static bool TryReadName(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        value = reader.ValueTextEquals("heartbeat"u8) ? PhoenixNames.Heartbeat
            : reader.ValueTextEquals("phoenix"u8) ? PhoenixNames.PhoenixTopic
            : reader.ValueTextEquals("phx_join"u8) ? PhoenixNames.Join
            : reader.ValueTextEquals("phx_leave"u8) ? PhoenixNames.Leave
            : reader.GetString();
        return true;
    }

    /// <summary>Any JSON value, kept as the raw bytes it spans in <paramref name="data"/>.</summary>
    private protected static bool TryReadPayload(ReadOnlyMemory<byte> data, ref Utf8JsonReader reader, out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        if (!reader.Read() || reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject or JsonTokenType.PropertyName)
        {
            return false;
        }

        int start = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }

        payload = data[start..(int)reader.BytesConsumed];
        return true;
    }

    private protected static void WriteRef(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
