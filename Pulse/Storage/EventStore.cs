using Npgsql;

namespace Pulse.Storage;

/// <summary>One row of the event list.</summary>
internal sealed record EventSummary(Guid Id, string Name, DateTime StartAt, DateTime EndAt);

/// <summary>Reads of <c>events</c> other than the view model.</summary>
internal sealed class EventStore(NpgsqlDataSource dataSource)
{
    /// <summary>One page, newest start first, then id; and the total count.</summary>
    public async Task<(IReadOnlyList<EventSummary> Events, long Total)> ListAsync(int page, int perPage, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, name, start_at, end_at, count(*) OVER () FROM events ORDER BY start_at DESC, id LIMIT $1 OFFSET $2");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = perPage });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)(page - 1) * perPage });
        var events = new List<EventSummary>(perPage);
        long total = -1;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new EventSummary(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTime>(2), reader.GetFieldValue<DateTime>(3)));
                total = reader.GetInt64(4);
            }
        }

        if (total < 0)
        {
            // A page past the end has no row to carry the window count.
            await using var count = dataSource.CreateCommand("SELECT count(*) FROM events");
            total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return (events, total);
    }

    /// <summary>Events that have not ended, soonest-ending first; for the dashboard's list.</summary>
    public async Task<IReadOnlyList<EventSummary>> CurrentAndUpcomingAsync(DateTime now, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, name, start_at, end_at FROM events WHERE end_at > $1 ORDER BY start_at, id LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var events = new List<EventSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new EventSummary(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTime>(2), reader.GetFieldValue<DateTime>(3)));
        }

        return events;
    }
}
