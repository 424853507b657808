using System.Buffers;
using System.Text.Json;

namespace Pulse.Phoenix;

/// <summary>
/// A per-thread buffer and <see cref="Utf8JsonWriter"/> for encoding one message at a time: replies
/// are copied by <c>SendText</c> and broadcasts into their frame, so the scratch is free again as
/// soon as the caller has used <see cref="End"/>'s span. Not reentrant; never hold it across an await.
/// </summary>
internal static class JsonScratch
{
    // A join reply carries a whole view model (~15 KB for a two-hour, three-sided battle, docs/design.md §5);
    // 4 KiB covers the rest. A buffer grown past 1 MiB by an unusual message is dropped, not kept.
    private const int InitialCapacity = 4096;
    private const int MaxRetainedCapacity = 1 << 20;

    // Writer options: the encoders build well-formed JSON by construction (tests parse every shape),
    // so validation is skipped; raw payloads are copied with skipInputValidation, never re-parsed.
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    public static Utf8JsonWriter Begin()
    {
        var buffer = _buffer;
        if (buffer is null || buffer.Capacity > MaxRetainedCapacity)
        {
            buffer = _buffer = new ArrayBufferWriter<byte>(InitialCapacity);
        }

        buffer.ResetWrittenCount();
        var writer = _writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        return writer;
    }

    /// <summary>The encoded bytes; valid until the next <see cref="Begin"/> on this thread.</summary>
    public static ReadOnlySpan<byte> End(Utf8JsonWriter writer)
    {
        writer.Flush();
        return _buffer!.WrittenSpan;
    }
}
