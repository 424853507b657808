using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;

namespace Pulse.Baseline;

/// <summary>Computes an event's view model (docs/design.md §5) with plain queries, every time it is asked.</summary>
internal sealed class ViewModels(NpgsqlDataSource dataSource)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<Guid, long> _versions = new();

    public async Task<ViewModel?> ComputeAsync(Guid eventId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        string name;
        DateTime startAt, endAt;
        await using (var command = new NpgsqlCommand("select name, start_at, end_at from events where id = $1", connection))
        {
            command.Parameters.AddWithValue(eventId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            name = reader.GetString(0);
            startAt = reader.GetDateTime(1);
            endAt = reader.GetDateTime(2);
        }

        var queries = new SortedDictionary<string, Dictionary<DateTime, long>>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("select distinct query from keywords where event_id = $1", connection))
        {
            command.Parameters.AddWithValue(eventId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                queries[reader.GetString(0)] = [];
            }
        }

        // Each entry counts once per query, in the minute of its earliest link inside the window.
        await using (var command = new NpgsqlCommand(
            """
            select query, date_trunc('minute', first_at), count(*)
            from (select k.query, uek.uniq_entry_id, min(uek.created_at) as first_at
                  from keywords k join uniq_entry_keywords uek on uek.keyword_id = k.id
                  where k.event_id = $1 and uek.created_at >= $2 and uek.created_at < $3
                  group by k.query, uek.uniq_entry_id) firsts
            group by query, date_trunc('minute', first_at)
            """, connection))
        {
            command.Parameters.AddWithValue(eventId);
            command.Parameters.AddWithValue(startAt);
            command.Parameters.AddWithValue(endAt);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                queries[reader.GetString(0)][reader.GetDateTime(1)] = reader.GetInt64(2);
            }
        }

        long total;
        await using (var command = new NpgsqlCommand(
            """
            select count(distinct uek.uniq_entry_id)
            from keywords k join uniq_entry_keywords uek on uek.keyword_id = k.id
            where k.event_id = $1 and uek.created_at >= $2 and uek.created_at < $3
            """, connection))
        {
            command.Parameters.AddWithValue(eventId);
            command.Parameters.AddWithValue(startAt);
            command.Parameters.AddWithValue(endAt);
            total = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        DateTime now = DateTime.UtcNow;
        DateTime first = Minute(startAt);
        DateTime until = now < endAt ? now : endAt;
        DateTime last = until > startAt ? Minute(until.AddTicks(-1)) : first;
        DateTime latestRow = queries.Values.SelectMany(p => p.Keys).DefaultIfEmpty(first).Max();
        if (latestRow > last)
        {
            last = latestRow;
        }

        var series = queries.Select(q =>
        {
            var points = new List<Point>();
            for (DateTime minute = first; minute <= last; minute = minute.AddMinutes(1))
            {
                points.Add(new Point(minute, q.Value.GetValueOrDefault(minute)));
            }

            return new QueryCount(q.Key, q.Value.Values.Sum(), points);
        }).ToList();
        long version = _versions.AddOrUpdate(eventId, 1, (_, v) => v + 1);
        return new ViewModel(eventId.ToString("D"), name, startAt, endAt, total, version, now, series);
    }

    private static DateTime Minute(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
}
