using System.Text.Json;

namespace Pulse.Testing.Phoenix;

/// <summary>
/// The Phoenix V1 JSON object <c>{"topic","event","payload","ref","join_ref"}</c> (phoenix.js before 1.4,
/// <c>vsn=1.0.0</c>), written through <see cref="Utf8JsonWriter"/> like <see cref="PhoenixV2Codec"/>.
/// </summary>
internal static class PhoenixV1Codec
{
    public static byte[] Encode(string? joinRef, string? @ref, string topic, string @event, string payloadJson = "{}") =>
        PhoenixV2Codec.WriteJson(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("topic", topic);
            writer.WriteString("event", @event);
            writer.WritePropertyName("payload");
            writer.WriteRawValue(payloadJson);
            writer.WriteString("ref", @ref);
            if (joinRef is not null)
            {
                writer.WriteString("join_ref", joinRef);
            }

            writer.WriteEndObject();
        });

    /// <summary>The fields of a V1 object; false when <paramref name="root"/> is not one.</summary>
    public static bool TryDecode(JsonElement root, out string? joinRef, out string? @ref, out string topic, out string @event, out JsonElement payload)
    {
        joinRef = @ref = null;
        topic = @event = string.Empty;
        payload = default;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("topic", out var t) || t.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("event", out var e) || e.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("payload", out payload))
        {
            return false;
        }

        topic = t.GetString()!;
        @event = e.GetString()!;
        @ref = root.TryGetProperty("ref", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        joinRef = root.TryGetProperty("join_ref", out var j) && j.ValueKind == JsonValueKind.String ? j.GetString() : null;
        return true;
    }
}
