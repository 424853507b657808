using System.Globalization;
using Npgsql;

namespace Pulse.Tests.Broadcasting;

/// <summary>
/// The counting rules of docs/design.md §5 written again in plain C# over the raw committed rows, for
/// the counting tests: what a tick publishes must equal both this and the full statement. Also the
/// tests' own writes (one round trip an entry, on any connection or transaction).
/// </summary>
/// <remarks>Models are compared as a canonical text: everything but <c>version</c> and
/// <c>computed_at</c>, one line a side, its points as counts from the first point's date.</remarks>
internal static class CountingReference
{
    private const string Rfc3339 = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'";

    /// <summary>
    /// Asserts that the snapshot <paramref name="service"/> published for the event equals the full
    /// statement's model and the reference, all at <paramref name="now"/>; returns the canonical text.
    /// </summary>
    public static async Task<string> AssertPublishedAsync(SnapshotService service, NpgsqlDataSource dataSource, Guid eventId, DateTime now, string because)
    {
        var snapshot = service.Peek(eventId);
        Assert.True(snapshot is not null, $"{because}: nothing published");
        var published = Canonical(snapshot.Json);
        var statement = await ViewModelQuery.ComputeAsync(dataSource, eventId, now, CancellationToken.None);
        Assert.True(statement is not null, $"{because}: the full statement found no event");
        var full = Canonical(ViewModelJson.Serialize(statement, 0, now));
        var expected = await ExpectedAsync(dataSource, eventId, now);
        Assert.True(expected == full, $"{because}: the full statement disagrees with the reference\nreference: {expected}\nstatement: {full}");
        Assert.True(expected == published, $"{because}: the published model disagrees with the reference\nreference: {expected}\npublished: {published}");
        return published;
    }

    /// <summary>The reference: the event's model at <paramref name="now"/> from its raw committed rows.</summary>
    public static async Task<string> ExpectedAsync(NpgsqlDataSource dataSource, Guid eventId, DateTime now)
    {
        string name;
        DateTime start, end;
        await using (var command = dataSource.CreateCommand("SELECT name, start_at, end_at FROM events WHERE id = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = eventId });
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            (name, start, end) = (reader.GetString(0), reader.GetFieldValue<DateTime>(1), reader.GetFieldValue<DateTime>(2));
        }

        // Every side, linked or not; a side without links comes back once with NULLs.
        var sides = new SortedSet<string>(StringComparer.Ordinal);
        var links = new List<(string Query, Guid Entry, DateTime At)>();
        await using (var command = dataSource.CreateCommand(
            "SELECT k.query, l.uniq_entry_id, l.created_at FROM keywords k LEFT JOIN uniq_entry_keywords l ON l.keyword_id = k.id WHERE k.event_id = $1"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = eventId });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                sides.Add(reader.GetString(0));
                if (!reader.IsDBNull(1))
                {
                    links.Add((reader.GetString(0), reader.GetGuid(1), reader.GetFieldValue<DateTime>(2)));
                }
            }
        }

        var inWindow = links.Where(l => l.At >= start && l.At < end).ToList();

        // One hit per (side, entry), in the minute of its earliest in-window link of that side.
        var hits = inWindow.GroupBy(l => (l.Query, l.Entry)).Select(g => (Side: g.Key.Query, Minute: Minute(g.Min(l => l.At)))).ToList();
        int total = inWindow.Select(l => l.Entry).Distinct().Count();

        // Through the minute just before min(now, end_at), or the latest counted minute when later.
        var edge = now < end ? now : end;
        DateTime? last = edge > start ? Minute(edge.AddTicks(-1)) : null;
        if (hits.Count > 0 && (last is null || hits.Max(h => h.Minute) > last))
        {
            last = hits.Max(h => h.Minute);
        }

        var first = Minute(start);
        int points = last is { } l ? (int)((l - first).Ticks / TimeSpan.TicksPerMinute) + 1 : 0;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"event_id={Quoted(eventId.ToString("D"))} name={Quoted(name)} start_at={Quoted(Format(start))} ");
        text.Append(CultureInfo.InvariantCulture, $"end_at={Quoted(Format(end))} total={total} ");
        foreach (var side in sides)
        {
            var minutes = Enumerable.Range(0, points).Select(i => hits.Count(h => h.Side == side && h.Minute == first.AddMinutes(i)));
            text.Append(CultureInfo.InvariantCulture, $"\n{side} count={hits.Count(h => h.Side == side)} ");
            text.Append(points == 0 ? "[]" : $"from {Format(first)} [{string.Join(',', minutes)}]");
        }

        return text.ToString();
    }

    /// <summary>A model's JSON as canonical text: every top-level member but version and computed_at.</summary>
    public static string Canonical(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var text = new StringBuilder();
        foreach (var member in document.RootElement.EnumerateObject())
        {
            if (member.NameEquals("queries"))
            {
                foreach (var side in member.Value.EnumerateArray())
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n{side.GetProperty("query").GetString()} count={side.GetProperty("count").GetInt32()} ");
                    text.Append(Series(side.GetProperty("time_series")));
                }
            }
            else if (!member.NameEquals("version") && !member.NameEquals("computed_at"))
            {
                var value = member.Value.ValueKind == JsonValueKind.String ? Quoted(member.Value.GetString()!) : member.Value.GetRawText();
                text.Append(CultureInfo.InvariantCulture, $"{member.Name}={value} ");
            }
        }

        return text.ToString();
    }

    /// <summary>One side's points from the published JSON.</summary>
    public static (int Count, int[] Minutes) Side(byte[] json, string query)
    {
        using var document = JsonDocument.Parse(json);
        var side = document.RootElement.GetProperty("queries").EnumerateArray().Single(q => q.GetProperty("query").GetString() == query);
        return (side.GetProperty("count").GetInt32(), [.. side.GetProperty("time_series").EnumerateArray().Select(p => p.GetProperty("count").GetInt32())]);
    }

    /// <summary>The total from the published JSON.</summary>
    public static int Total(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("total").GetInt32();
    }

    /// <summary>Inserts an entry and its links (keyword, created_at) in one round trip.</summary>
    public static async Task<Guid> InsertEntryAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DateTime createdAt, params (Guid Keyword, DateTime At)[] links)
    {
        var entry = Guid.NewGuid();
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("INSERT INTO uniq_entries (id, created_at) VALUES ($1, $2)", entry, createdAt));
        foreach (var (keyword, at) in links)
        {
            batch.BatchCommands.Add(Command("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)", entry, keyword, at));
        }

        await batch.ExecuteNonQueryAsync();
        return entry;
    }

    /// <summary>A further link of an existing entry.</summary>
    public static async Task LinkAsync(NpgsqlDataSource dataSource, Guid entry, Guid keyword, DateTime at)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) VALUES ($1, $2, $3)");
        command.Parameters.Add(new NpgsqlParameter { Value = entry });
        command.Parameters.Add(new NpgsqlParameter { Value = keyword });
        command.Parameters.Add(new NpgsqlParameter { Value = at });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The UTC minute of <paramref name="at"/>.</summary>
    public static DateTime Minute(DateTime at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);

    // The points as counts from the first date; a date that does not follow its predecessor by one
    // minute is written out, so a gap or a repeat cannot compare equal.
    private static string Series(JsonElement series)
    {
        var points = series.EnumerateArray().ToList();
        if (points.Count == 0)
        {
            return "[]";
        }

        var first = points[0].GetProperty("date").GetString()!;
        var firstMinute = DateTime.ParseExact(first, Rfc3339, CultureInfo.InvariantCulture);
        var counts = points.Select((p, i) =>
        {
            var date = p.GetProperty("date").GetString();
            var count = p.GetProperty("count").GetInt32().ToString(CultureInfo.InvariantCulture);
            return date == Format(firstMinute.AddMinutes(i)) ? count : $"{count}@{date}";
        });
        return $"from {first} [{string.Join(',', counts)}]";
    }

    private static string Format(DateTime at) => at.ToString(Rfc3339, CultureInfo.InvariantCulture);

    private static string Quoted(string value) => JsonSerializer.Serialize(value);

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
