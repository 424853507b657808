using System.Text;
using System.Text.Json;

namespace Pulse.Testing.Phoenix;

/// <summary>
/// One message a <see cref="PhoenixClient"/> received: its text, its JSON, its Phoenix fields (V2
/// array or V1 object) and when it arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp
/// taken by the read loop as the last byte came in).
/// </summary>
internal sealed class InboxMessage
{
    // Only the bytes are kept (plus the payload tree): a test that reads thousands of view models
    // must not measure its own copies when it checks the server's memory.
    private readonly byte[] _utf8;
    private JsonElement? _json;

    private InboxMessage(byte[] utf8, long receivedAt)
    {
        _utf8 = utf8;
        ReceivedAt = receivedAt;
    }

    /// <summary>The message as the server wrote it.</summary>
    public string Text => Encoding.UTF8.GetString(_utf8);

    /// <summary>The whole message: a 5-element array (V2) or an object (V1).</summary>
    public JsonElement Json => _json ??= ParseTree(_utf8);

    public long ReceivedAt { get; }

    /// <summary>The message's length in UTF-8 bytes.</summary>
    public int Bytes => _utf8.Length;

    public string? JoinRef { get; private init; }

    public string? Ref { get; private init; }

    /// <summary>Empty when the message is neither V1 nor V2.</summary>
    public string Topic { get; private init; } = string.Empty;

    public string Event { get; private init; } = string.Empty;

    public JsonElement Payload { get; private init; }

    /// <summary>The reply's <c>status</c> (<c>ok</c>/<c>error</c>), or null.</summary>
    public string? Status => Payload.ValueKind == JsonValueKind.Object && Payload.TryGetProperty("status", out var s) ? s.GetString() : null;

    /// <summary>The view model: a broadcast's payload, or a join reply's <c>response.snapshot</c>.</summary>
    public JsonElement ViewModel => Event == "phx_reply" ? Payload.GetProperty("response").GetProperty("snapshot") : Payload;

    public long Version => ViewModel.GetProperty("version").GetInt64();

    public int Total => ViewModel.GetProperty("total").GetInt32();

    /// <summary>The view model's <c>total</c> when this message carries one (a broadcast or a join reply with a snapshot).</summary>
    public long? TotalOrNull
    {
        get
        {
            var model = Event == "phx_reply" && Payload.ValueKind == JsonValueKind.Object
                && Payload.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object
                && response.TryGetProperty("snapshot", out var snapshot) ? snapshot : Payload;
            return model.ValueKind == JsonValueKind.Object && model.TryGetProperty("total", out var total) ? total.GetInt64() : null;
        }
    }

    /// <summary>Per side (<c>query</c>) its <c>count</c>.</summary>
    public Dictionary<string, int> Counts => ViewModel.GetProperty("queries").EnumerateArray()
        .ToDictionary(q => q.GetProperty("query").GetString()!, q => q.GetProperty("count").GetInt32(), StringComparer.Ordinal);

    /// <summary>Decodes the fields with <see cref="PhoenixV2Codec"/> (or <see cref="PhoenixV1Codec"/>); any other JSON keeps only its text and tree.</summary>
    public static InboxMessage Parse(ReadOnlySpan<byte> utf8, long receivedAt)
    {
        byte[] bytes = utf8.ToArray();
        if (PhoenixV2Codec.TryDecode(bytes, out var v2))
        {
            return new InboxMessage(bytes, receivedAt)
            {
                JoinRef = v2.JoinRef,
                Ref = v2.Ref,
                Topic = v2.Topic ?? string.Empty,
                Event = v2.Event ?? string.Empty,
                Payload = ParseTree(v2.Payload),
            };
        }

        var json = ParseTree(bytes);
        if (PhoenixV1Codec.TryDecode(json, out var joinRef, out var @ref, out var topic, out var @event, out var v1Payload))
        {
            return new InboxMessage(bytes, receivedAt) { _json = json, JoinRef = joinRef, Ref = @ref, Topic = topic, Event = @event, Payload = v1Payload };
        }

        return new InboxMessage(bytes, receivedAt) { _json = json };
    }

    private static JsonElement ParseTree(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        return JsonElement.ParseValue(ref reader);
    }

    public override string ToString() => Text;
}
