using System.Text.Json;

namespace Pulse.LoadTests.Client;

/// <summary>
/// The parts of a Phoenix V2 message <c>[join_ref, ref, topic, event, payload]</c> the
/// scenarios look at. <see cref="Payload"/> points into the socket's receive buffer and is
/// only valid during the callback.
/// </summary>
internal readonly ref struct PhoenixMessage
{
    public string? JoinRef { get; init; }
    public string? Ref { get; init; }
    public string? Topic { get; init; }
    public string? Event { get; init; }
    /// <summary>The payload's top-level <c>status</c> (set on <c>phx_reply</c>).</summary>
    public string? Status { get; init; }
    /// <summary>The payload's top-level <c>version</c> (set on broadcasts of a view model).</summary>
    public long Version { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> json, out PhoenixMessage message)
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
                if (!reader.Read())
                {
                    return false;
                }

                fields[i] = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Null => null,
                    _ => throw new JsonException("element is not a string"),
                };
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
            message = new PhoenixMessage
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
}
