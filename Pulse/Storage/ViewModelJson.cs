using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Pulse.Storage;

/// <summary>
/// Writes the view model JSON of docs/design.md §5 by hand on <see cref="Utf8JsonWriter"/>: no indentation,
/// no nulls, dates derived from the minute index. Frame size is what fan-out pays for, so every
/// byte counts (a two-hour, three-sided battle is about 15 KB).
/// </summary>
internal static class ViewModelJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,

        // Non-ASCII as UTF-8, not \uXXXX: "Barça" is 6 bytes, not 11. The payload is JSON in a
        // WebSocket frame or an application/json body, never inlined into HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Serialize(ViewModel model, long version, DateTime computedAt)
    {
        // A point is 41 bytes plus its count's digits ({"date":"2026-11-27T20:00:00Z","count":12}, is 43);
        // 48 covers counts up to 7 digits, so the buffer is never regrown (Pulse.Benchmarks measured
        // 40 a point regrowing for every two-hour battle). Plus 256 for the rest.
        var buffer = new ArrayBufferWriter<byte>(256 + (48 * model.Queries.Sum(q => q.Minutes.Length + 2)));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, model, version, computedAt);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, ViewModel model, long version, DateTime computedAt)
    {
        writer.WriteStartObject();
        writer.WriteString("event_id"u8, model.EventId.ToString("D"));
        writer.WriteString("name"u8, model.Name);
        WriteTime(writer, "start_at"u8, model.StartAt);
        WriteTime(writer, "end_at"u8, model.EndAt);
        writer.WriteNumber("total"u8, model.Total);
        writer.WriteNumber("version"u8, version);
        WriteTime(writer, "computed_at"u8, new DateTime(computedAt.Ticks - (computedAt.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc));
        writer.WriteStartArray("queries"u8);
        foreach (var query in model.Queries)
        {
            writer.WriteStartObject();
            writer.WriteString("query"u8, query.Query);
            writer.WriteNumber("count"u8, query.Count);
            writer.WriteStartArray("time_series"u8);
            var minute = model.FirstMinute;
            foreach (int count in query.Minutes)
            {
                writer.WriteStartObject();
                WriteTime(writer, "date"u8, minute);
                writer.WriteNumber("count"u8, count);
                writer.WriteEndObject();
                minute = minute.AddMinutes(1);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>RFC 3339 in UTC with <c>Z</c>; fractional seconds only when present (trailing zeros dropped).</summary>
    public static string FormatTime(DateTime value)
    {
        Span<char> text = stackalloc char[40];
        return Format(value, text, out int written) ? new string(text[..written]) : throw new FormatException();
    }

    private static void WriteTime(Utf8JsonWriter writer, ReadOnlySpan<byte> name, DateTime value)
    {
        Span<char> text = stackalloc char[40];
        _ = Format(value, text, out int written);
        writer.WriteString(name, text[..written]);
    }

    private static bool Format(DateTime value, Span<char> destination, out int written) =>
        value.ToUniversalTime().TryFormat(destination, out written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
