using System.Buffers;
using System.Text;

namespace Pulse.WebSockets;

/// <summary>What the first bytes of a connection are, as far as the upgrade is concerned.</summary>
internal enum HeadKind
{
    /// <summary>Not yet known; read more.</summary>
    NeedMore,

    /// <summary>A request for <c>/socket/websocket</c> whose head is not complete yet; read more.</summary>
    NeedMoreWebSocket,

    /// <summary>Not a request for <c>/socket/websocket</c>: hand the bytes, unconsumed, to the HTTP pipeline.</summary>
    NotWebSocket,

    /// <summary>A request for <c>/socket/websocket</c> whose head does not fit the limit (431).</summary>
    TooLarge,

    /// <summary>A complete request head for <c>/socket/websocket</c>.</summary>
    WebSocket,
}

/// <summary>The parts of an upgrade request head that RFC 6455 §4.2.1 checks.</summary>
internal sealed class UpgradeRequestHead
{
    public string Method { get; set; } = string.Empty;
    public string Path { get; set; } = string.Empty;
    public string QueryString { get; set; } = string.Empty;
    public string HttpVersion { get; set; } = string.Empty;
    public bool UpgradeWebSocket { get; set; }
    public bool ConnectionUpgrade { get; set; }
    public string? Key { get; set; }
    public string? Version { get; set; }
    public string? Origin { get; set; }
}

/// <summary>Pure parsing of the first request head of a connection (HTTP/1.1, RFC 9112 §2–5).</summary>
internal static class HandshakeParser
{
    public const string WebSocketPath = "/socket/websocket";

    private static ReadOnlySpan<byte> WebSocketPathBytes => "/socket/websocket"u8;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>
    /// Classifies the bytes received so far. Decides <see cref="HeadKind.NotWebSocket"/> as soon as the target
    /// diverges from <c>/socket/websocket</c>, so ordinary HTTP requests are not held back.
    /// </summary>
    public static HeadKind Classify(in ReadOnlySequence<byte> buffer, int maxHeadBytes, out int headLength)
    {
        headLength = 0;
        int available = (int)Math.Min(buffer.Length, maxHeadBytes);
        Span<byte> start = stackalloc byte[64];
        int startLength = (int)Math.Min(buffer.Length, start.Length);
        buffer.Slice(0, startLength).CopyTo(start);
        start = start[..startLength];

        // Method token, then one space, then the target (RFC 9112 §3). Methods are short; 16 is plenty.
        int space = start.IndexOf((byte)' ');
        if (space < 0)
        {
            return startLength >= 16 ? HeadKind.NotWebSocket : HeadKind.NeedMore;
        }

        var target = start[(space + 1)..];
        int compare = Math.Min(target.Length, WebSocketPathBytes.Length);
        if (!target[..compare].SequenceEqual(WebSocketPathBytes[..compare]))
        {
            return HeadKind.NotWebSocket;
        }

        if (target.Length <= WebSocketPathBytes.Length)
        {
            return HeadKind.NeedMore;
        }

        byte after = target[WebSocketPathBytes.Length];
        if (after is not ((byte)'?' or (byte)' '))
        {
            return HeadKind.NotWebSocket; // e.g. /socket/websocketx or /socket/websocket/
        }

        var reader = new SequenceReader<byte>(buffer.Slice(0, available));
        if (reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd))
        {
            headLength = (int)head.Length + HeadEnd.Length;
            return HeadKind.WebSocket;
        }

        return buffer.Length >= maxHeadBytes ? HeadKind.TooLarge : HeadKind.NeedMoreWebSocket;
    }

    /// <summary>Parses a complete head (without its final empty line); <c>null</c> when it is not well-formed HTTP/1.x.</summary>
    public static UpgradeRequestHead? Parse(ReadOnlySpan<byte> head)
    {
        var result = new UpgradeRequestHead();
        int lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        if (!ParseRequestLine(requestLine, result))
        {
            return null;
        }

        while (!rest.IsEmpty)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = lineEnd < 0 ? rest : rest[..lineEnd];
            rest = lineEnd < 0 ? [] : rest[(lineEnd + 2)..];
            if (line.IsEmpty)
            {
                break;
            }

            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                return null;
            }

            ApplyHeader(result, line[..colon], line[(colon + 1)..].Trim(" \t"u8));
        }

        return result;
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, UpgradeRequestHead result)
    {
        int first = line.IndexOf((byte)' ');
        int last = line.LastIndexOf((byte)' ');
        if (first <= 0 || last <= first)
        {
            return false;
        }

        var target = line[(first + 1)..last];
        int query = target.IndexOf((byte)'?');
        result.Method = Encoding.ASCII.GetString(line[..first]);
        result.Path = Encoding.ASCII.GetString(query < 0 ? target : target[..query]);
        result.QueryString = query < 0 ? string.Empty : Encoding.ASCII.GetString(target[query..]);
        result.HttpVersion = Encoding.ASCII.GetString(line[(last + 1)..]);
        return true;
    }

    private static void ApplyHeader(UpgradeRequestHead result, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Ascii.EqualsIgnoreCase(name, "Upgrade"u8))
        {
            result.UpgradeWebSocket |= HasToken(value, "websocket"u8);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            result.ConnectionUpgrade |= HasToken(value, "upgrade"u8);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8))
        {
            result.Key = Encoding.Latin1.GetString(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8))
        {
            result.Version = Encoding.Latin1.GetString(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Origin"u8))
        {
            result.Origin = Encoding.Latin1.GetString(value);
        }
    }

    /// <summary>Whether a comma-separated header value lists <paramref name="token"/> (case-insensitive).</summary>
    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }
}
