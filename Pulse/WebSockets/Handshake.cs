using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Pulse.WebSockets;

/// <summary>The server's side of the opening handshake (RFC 6455 §4.2) and its hand-written HTTP/1.1 responses.</summary>
internal static class Handshake
{
    /// <summary>§1.3: the GUID appended to the key before hashing.</summary>
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The client's key is "a randomly selected 16-byte value that has been base64-encoded" (§4.1).</summary>
    private const int KeyBytes = 16;

    /// <summary>
    /// The checks of §4.2.1 and the origin policy (§10.2), in order. Returns 0 when the upgrade may proceed,
    /// else the status code to answer with and its reason.
    /// </summary>
    public static int Validate(UpgradeRequestHead head, IReadOnlyCollection<string> allowedOrigins, out string error)
    {
        (int status, error) = head switch
        {
            { Method: not "GET" } => (400, "the upgrade must be a GET"),
            { HttpVersion: not "HTTP/1.1" } => (400, "the upgrade needs HTTP/1.1"),
            { UpgradeWebSocket: false } => (400, "missing Upgrade: websocket"),
            { ConnectionUpgrade: false } => (400, "missing Connection: Upgrade"),

            // §4.2.2: "If this version does not match a version understood by the server, the server MUST
            // abort the WebSocket handshake … and instead send an appropriate HTTP error code (such as 426
            // Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the version(s)".
            { Version: not "13" } => (426, "unsupported Sec-WebSocket-Version; use 13"),
            _ when !IsValidKey(head.Key) => (400, "Sec-WebSocket-Key must be 16 bytes in base64"),
            _ when !IsOriginAllowed(head.Origin, allowedOrigins) => (403, "origin not allowed"),
            _ => (0, string.Empty),
        };
        return status;
    }

    public static bool IsValidKey(string? key)
    {
        // 16 bytes are 24 base64 characters; decoding into exactly 16 bytes rejects any other length.
        Span<byte> decoded = stackalloc byte[KeyBytes + 2];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out int written) && written == KeyBytes;
    }

    public static bool IsOriginAllowed(string? origin, IReadOnlyCollection<string> allowedOrigins)
    {
        // No Origin: not a browser, so no cross-site risk (§10.2 protects browsers' users).
        if (origin is null || allowedOrigins.Count == 0)
        {
            return true;
        }

        foreach (var allowed in allowedOrigins)
        {
            if (string.Equals(origin, allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>§4.2.2 item 5.4: base64(SHA-1(key + GUID)).</summary>
    public static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[64];
        int length = Encoding.ASCII.GetBytes(key + KeyGuid, input);

        // SHA-1 is what the RFC prescribes here; it proves the server read the key, it protects nothing.
#pragma warning disable CA5350 // Do not use weak cryptographic algorithms
        return Convert.ToBase64String(SHA1.HashData(input[..length]));
#pragma warning restore CA5350
    }

    public static void WriteSwitchingProtocols(PipeWriter output, string key)
    {
        output.Write(Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
            + ComputeAccept(key) + "\r\n\r\n"));
    }

    /// <summary>A refusal: a tiny HTTP/1.1 response with a JSON body, after which the connection closes.</summary>
    public static void WriteError(PipeWriter output, int status, string error)
    {
        var body = Encoding.UTF8.GetBytes("{\"error\":\"" + JsonEncodedText.Encode(error).Value + "\"}");
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(status).Append(' ').Append(ReasonPhrase(status)).Append("\r\n")
            .Append("Content-Type: application/json; charset=utf-8\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append(status == 426 ? "Sec-WebSocket-Version: 13\r\n" : string.Empty)
            .Append("Connection: close\r\n\r\n");
        output.Write(Encoding.ASCII.GetBytes(head.ToString()));
        output.Write(body);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        403 => "Forbidden",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
}
