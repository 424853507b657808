using Npgsql;
using NpgsqlTypes;

namespace Pulse.Storage;

/// <summary>
/// Computes an event's <see cref="ViewModel"/> with ONE parameterized, prepared statement
/// (docs/design.md §5): one row per side, each carrying the event's columns, the total and the side's
/// per-minute array. Zero rows means the event does not exist; an event without keywords gives
/// one row whose side is NULL.
/// </summary>
internal static class ViewModelQuery
{
    // $1 = event id, $2 = now. Minutes are truncated in UTC explicitly (date_trunc's third argument),
    // so the session's TimeZone setting cannot move a point. "hits" keeps one row per (side, entry):
    // its earliest link of that side inside [start_at, end_at), so an entry linked through two
    // keywords of one side counts once, in the minute of its first link. The last point is the minute
    // just before min(now, end_at) (none for end_at's own minute on a boundary), extended to the
    // latest counted row when the writers' clocks run ahead of ours; points always sum to the count.
    // COLLATE "C" orders sides by code point.
    internal const string Sql = """
        WITH ev AS (
            SELECT id, name, start_at, end_at FROM events WHERE id = $1
        ), hits AS (
            SELECT k.query, l.uniq_entry_id, min(l.created_at) AS first_at
            FROM ev
            JOIN keywords k ON k.event_id = ev.id
            JOIN uniq_entry_keywords l ON l.keyword_id = k.id AND l.created_at >= ev.start_at AND l.created_at < ev.end_at
            GROUP BY k.query, l.uniq_entry_id
        ), per_minute AS (
            SELECT query, date_trunc('minute', first_at, 'UTC') AS minute, count(*)::int AS n
            FROM hits GROUP BY 1, 2
        ), span AS (
            SELECT date_trunc('minute', ev.start_at, 'UTC') AS first_minute,
                   greatest(
                       CASE WHEN least($2, ev.end_at) > ev.start_at
                            THEN date_trunc('minute', least($2, ev.end_at) - interval '1 microsecond', 'UTC') END,
                       (SELECT max(minute) FROM per_minute)) AS last_minute
            FROM ev
        ), sides AS (
            SELECT DISTINCT query FROM keywords WHERE event_id = $1
        )
        SELECT ev.name, ev.start_at, ev.end_at, span.first_minute,
               (SELECT count(DISTINCT uniq_entry_id) FROM hits)::int AS total,
               s.query,
               (SELECT count(*) FROM hits h WHERE h.query = s.query)::int AS count,
               ARRAY(SELECT coalesce(p.n, 0)
                     FROM generate_series(span.first_minute, span.last_minute, interval '1 minute') AS m(minute)
                     LEFT JOIN per_minute p ON p.query = s.query AND p.minute = m.minute
                     ORDER BY m.minute) AS minutes
        FROM ev CROSS JOIN span LEFT JOIN sides s ON true
        ORDER BY s.query COLLATE "C"
        """;

    /// <summary>Runs the statement on a pooled connection.</summary>
    public static async Task<ViewModel?> ComputeAsync(NpgsqlDataSource dataSource, Guid eventId, DateTime now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ComputeAsync(connection, eventId, now, cancellationToken);
    }

    /// <summary>Runs the statement on <paramref name="connection"/>, preparing it there once (later calls reuse it).</summary>
    public static async Task<ViewModel?> ComputeAsync(NpgsqlConnection connection, Guid eventId, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = eventId });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = DateTime.SpecifyKind(now, DateTimeKind.Utc) });

        // Npgsql keeps prepared statements per physical connection: on a connection that already
        // has this statement, PrepareAsync is a lookup, not a round trip.
        await command.PrepareAsync(cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var name = reader.GetString(0);
        var startAt = reader.GetFieldValue<DateTime>(1);
        var endAt = reader.GetFieldValue<DateTime>(2);
        var firstMinute = reader.GetFieldValue<DateTime>(3);
        int total = reader.GetInt32(4);
        var queries = new List<QuerySeries>(3);
        do
        {
            if (!reader.IsDBNull(5))
            {
                queries.Add(new QuerySeries(reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<int[]>(7)));
            }
        }
        while (await reader.ReadAsync(cancellationToken));

        return new ViewModel
        {
            EventId = eventId,
            Name = name,
            StartAt = startAt,
            EndAt = endAt,
            FirstMinute = firstMinute,
            Total = total,
            Queries = queries,
        };
    }
}
