using System.Text;

namespace Pulse.WebSockets;

/// <summary>What the head's fields and the chunk-size lines say about where a request ends (RFC 9112 §6.3, §7.1).</summary>
internal sealed partial class HttpRequestFraming
{
    private void OnField(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return; // not a field (Kestrel answers 400 and closes); nothing for the framing
        }

        var name = line[..colon];
        var value = line[(colon + 1)..].Trim(" \t"u8);
        if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            // §6.3 item 5: a repeated or invalid Content-Length is an unrecoverable error.
            if (_contentLength is not null || !TryParseDecimal(value, out long length))
            {
                _unfollowable = true;
            }
            else
            {
                _contentLength = length;
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            // §6.3 item 4: the body is chunked only when chunked is the final coding of the last field.
            _hasTransferEncoding = true;
            int comma = value.LastIndexOf((byte)',');
            _chunked = Ascii.EqualsIgnoreCase(value[(comma + 1)..].Trim(" \t"u8), "chunked"u8);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Connection"u8) && HasToken(value, "upgrade"u8))
        {
            // An upgrade to anything but our WebSocket: what follows the head is Kestrel's to interpret.
            _unfollowable = true;
        }
    }

    private void EndHead()
    {
        Requests++;

        // §6.3 item 3: Transfer-Encoding with Content-Length "ought to be handled as an error"; item 4: a final
        // coding other than chunked leaves a request's length unknowable.
        if (_unfollowable || (_hasTransferEncoding && (_contentLength is not null || !_chunked)))
        {
            _state = State.Untracked;
        }
        else if (_chunked)
        {
            _state = State.ChunkSize;
            _lineBytes = 0;
        }
        else if (_contentLength is > 0)
        {
            // §6.3 item 6; item 7: a request with neither field has no body.
            _state = State.Body;
            _remaining = _contentLength.Value;
        }
        else
        {
            _state = State.Boundary;
        }
    }

    private void OnChunkSize(ReadOnlySpan<byte> line)
    {
        // §7.1: chunk-size = 1*HEXDIG, then optional chunk-ext (";" name [= value]), BWS allowed before ";".
        int digits = 0;
        long size = 0;
        while (digits < line.Length && HexValue(line[digits]) is >= 0 and var value)
        {
            // 15 hex digits already exceed any body Kestrel would read (and 16 could overflow).
            if (++digits > 15)
            {
                _state = State.Untracked;
                return;
            }

            size = (size << 4) | (uint)value;
        }

        var rest = line[digits..].TrimStart(" \t"u8);
        if (digits == 0 || (!rest.IsEmpty && rest[0] != (byte)';'))
        {
            _state = State.Untracked;
            return;
        }

        _lineBytes = 0;
        if (size == 0)
        {
            _state = State.Trailers;
        }
        else
        {
            _state = State.ChunkData;
            _remaining = size;
        }
    }

    private static bool IsFramingField(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        return colon < 0
            || Ascii.EqualsIgnoreCase(name, "Content-Length"u8)
            || Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)
            || Ascii.EqualsIgnoreCase(name, "Connection"u8);
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> text, out long value)
    {
        // §8.6: Content-Length = 1*DIGIT. 18 digits stay below long.MaxValue.
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }

        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

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
