using System.Text;
using System.Text.Unicode;

namespace Pulse.WebSockets;

/// <summary>
/// Incremental UTF-8 validation of a text message that arrives in pieces (RFC 6455 §8.1: "When an endpoint
/// is to interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8
/// stream, that endpoint MUST _Fail the WebSocket Connection_", close code 1007).
/// </summary>
internal static class Utf8Validation
{
    /// <summary>
    /// Returns how many leading bytes of <paramref name="bytes"/> are complete, valid code points. The rest
    /// (at most 3 bytes) is a valid but unfinished sequence that may be completed by the next fragment.
    /// Throws 1007 when the bytes cannot be the start of valid UTF-8.
    /// </summary>
    public static int ValidatePrefix(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return bytes.Length;
        }

        // Back up over at most 3 continuation bytes (10xxxxxx) to the start of the last sequence.
        int start = bytes.Length - 1;
        for (int back = 0; start > 0 && back < 3 && (bytes[start] & 0xC0) == 0x80; back++)
        {
            start--;
        }

        // NeedMoreData is returned only for a well-formed but truncated prefix (no overlong, no surrogate).
        if (Utf8.IsValid(bytes[..start]) && Rune.DecodeFromUtf8(bytes[start..], out _, out _) == System.Buffers.OperationStatus.NeedMoreData)
        {
            return start;
        }

        throw new WebSocketProtocolException(WebSocketCloseCode.InvalidPayloadData, "invalid UTF-8");
    }

    /// <summary>Validates a complete text (a whole message, or a close reason).</summary>
    public static void ValidateComplete(ReadOnlySpan<byte> bytes)
    {
        if (!Utf8.IsValid(bytes))
        {
            throw new WebSocketProtocolException(WebSocketCloseCode.InvalidPayloadData, "invalid UTF-8");
        }
    }
}
