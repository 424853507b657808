using System.Buffers;
using System.Text.Json;

namespace Pulse.Testing.Phoenix;

/// <summary>
/// The Phoenix V2 JSON array <c>[join_ref, ref, topic, event, payload]</c>, both ways. Encoding goes
/// through <see cref="Utf8JsonWriter"/>, so a topic or ref with quotes, backslashes or control
/// characters is escaped, never pasted into the text; the payload is written as given JSON (validated).
/// </summary>
internal static class PhoenixV2Codec
{
    /// <summary>The UTF-8 bytes of one V2 message.</summary>
    public static byte[] Encode(string? joinRef, string? @ref, string topic, string @event, string payloadJson = "{}") =>
        WriteJson(writer =>
        {
            writer.WriteStartArray();
            WriteStringOrNull(writer, joinRef);
            WriteStringOrNull(writer, @ref);
            writer.WriteStringValue(topic);
            writer.WriteStringValue(@event);
            writer.WriteRawValue(payloadJson);
            writer.WriteEndArray();
        });

    /// <summary>What <paramref name="write"/> writes, as UTF-8 bytes (shared with <see cref="PhoenixV1Codec"/>).</summary>
    internal static byte[] WriteJson(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><see cref="Encode"/> as text (for a <c>ClientWebSocket</c> or a log line).</summary>
    public static string EncodeText(string? joinRef, string? @ref, string topic, string @event, string payloadJson = "{}") =>
        System.Text.Encoding.UTF8.GetString(Encode(joinRef, @ref, topic, @event, payloadJson));

    /// <summary>
    /// Decodes the four strings and finds the payload object without copying it; false when
    /// <paramref name="json"/> is not a V2 message (a V1 object, a bad element, a non-object payload).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> json, out PhoenixV2Fields message)
    {
        message = default;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }

            var fields = new string?[4];
            for (int i = 0; i < 4; i++)
            {
                if (!reader.Read() || reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    return false;
                }

                fields[i] = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            int start = (int)reader.TokenStartIndex;
            string? status = null;
            long version = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                // Top-level property names only: nested values are skipped whole.
                bool isStatus = reader.ValueTextEquals("status"u8);
                bool isVersion = reader.ValueTextEquals("version"u8);
                reader.Read();
                if (isStatus && reader.TokenType == JsonTokenType.String)
                {
                    status = reader.GetString();
                }
                else if (isVersion && reader.TokenType == JsonTokenType.Number)
                {
                    version = reader.GetInt64();
                }
                else
                {
                    reader.Skip();
                }
            }

            int end = (int)reader.BytesConsumed;
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
            {
                return false;
            }

            message = new PhoenixV2Fields
            {
                JoinRef = fields[0],
                Ref = fields[1],
                Topic = fields[2],
                Event = fields[3],
                Status = status,
                Version = version,
                Payload = json[start..end],
            };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string? value)
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

/// <summary>
/// The parts of a V2 message a client looks at. <see cref="Payload"/> points into the decoded buffer
/// and is only valid while that buffer is.
/// </summary>
internal readonly ref struct PhoenixV2Fields
{
    public string? JoinRef { get; init; }

    public string? Ref { get; init; }

    public string? Topic { get; init; }

    public string? Event { get; init; }

    /// <summary>The payload's top-level <c>status</c> (set on <c>phx_reply</c>).</summary>
    public string? Status { get; init; }

    /// <summary>The payload's top-level <c>version</c> (set on broadcasts of a view model).</summary>
    public long Version { get; init; }

    /// <summary>The payload object's bytes.</summary>
    public ReadOnlySpan<byte> Payload { get; init; }
}
