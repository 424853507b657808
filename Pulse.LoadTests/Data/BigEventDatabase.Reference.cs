using Npgsql;

namespace Pulse.LoadTests.Data;

/// <summary>The numbers of docs/design.md §5, as the load tool computes them from the raw rows.</summary>
/// <param name="Total">Distinct entries over all sides.</param>
/// <param name="Counts">Distinct entries per side (every side of the event, zero included).</param>
/// <param name="Points">Per (side, minute) the entries whose first link in the window falls in that minute; no zero points.</param>
internal sealed record BigEventNumbers(long Total, SortedDictionary<string, long> Counts, Dictionary<(string Side, DateTime Minute), long> Points);

/// <summary>Totals of <c>pg_stat_statements</c> rows, split by what the statement is.</summary>
/// <param name="DeltaCalls">Calls of statements marked <c>pulse: counting delta</c>.</param>
/// <param name="DeltaMs">Their execution time, milliseconds.</param>
/// <param name="FullCalls">Calls of statements marked <c>pulse: counting full</c>.</param>
/// <param name="FullMs">Their execution time, milliseconds.</param>
/// <param name="LinkCalls">Calls of every statement naming <c>uniq_entry_keywords</c>, the tool's own left out.</param>
/// <param name="LinkMs">Their execution time, milliseconds.</param>
internal readonly record struct StatementTotals(long DeltaCalls, double DeltaMs, long FullCalls, double FullMs, long LinkCalls, double LinkMs)
{
    public static StatementTotals operator -(StatementTotals a, StatementTotals b) =>
        new(a.DeltaCalls - b.DeltaCalls, a.DeltaMs - b.DeltaMs, a.FullCalls - b.FullCalls, a.FullMs - b.FullMs,
            a.LinkCalls - b.LinkCalls, a.LinkMs - b.LinkMs);
}

internal sealed partial class BigEventDatabase
{
    /// <summary>
    /// The reference, written apart from the server's statement: every link of the event inside
    /// [start_at, end_at), the earliest per (side, entry) by <c>DISTINCT ON</c>, bucketed by its
    /// UTC minute; the total is the distinct entries of those links.
    /// </summary>
    public async Task<BigEventNumbers> ReferenceAsync(Guid eventId, CancellationToken cancellationToken)
    {
        const string links = """
            select k.query as side, l.uniq_entry_id as entry, l.created_at
            from events e
            join keywords k on k.event_id = e.id
            join uniq_entry_keywords l on l.keyword_id = k.id
            where e.id = $1 and l.created_at >= e.start_at and l.created_at < e.end_at
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using (var sides = new NpgsqlCommand(Tag + "select distinct query from keywords where event_id = $1", connection, transaction))
        {
            sides.Parameters.AddWithValue(eventId);
            await using var reader = await sides.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts[reader.GetString(0)] = 0;
            }
        }

        var points = new Dictionary<(string, DateTime), long>();
        await using (var minutes = new NpgsqlCommand(
            Tag + $"""
            with links as ({links}),
            firsts as (select distinct on (side, entry) side, entry, created_at from links order by side, entry, created_at)
            select side, date_trunc('minute', created_at, 'UTC'), count(*) from firsts group by 1, 2
            """, connection, transaction))
        {
            minutes.Parameters.AddWithValue(eventId);
            await using var reader = await minutes.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                string side = reader.GetString(0);
                long n = reader.GetInt64(2);
                points[(side, DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc))] = n;
                counts[side] = counts.GetValueOrDefault(side) + n;
            }
        }

        await using var total = new NpgsqlCommand(Tag + $"with links as ({links}) select count(*) from (select distinct entry from links) d", connection, transaction);
        total.Parameters.AddWithValue(eventId);
        long totalCount = (long)(await total.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return new BigEventNumbers(totalCount, counts, points);
    }

    /// <summary>Empties <c>pg_stat_statements</c>; false when the extension is not there (figures then read "n/a").</summary>
    public async Task<bool> ResetStatementsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var reset = dataSource.CreateCommand(Tag + "select pg_stat_statements_reset()");
            await reset.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    /// <summary>The running totals of <c>pg_stat_statements</c> for this database, or null without the extension.</summary>
    public async Task<StatementTotals?> ReadStatementsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var read = dataSource.CreateCommand(
                Tag + """
                select coalesce(sum(calls) filter (where query like $1), 0)::bigint,
                       coalesce(sum(total_exec_time) filter (where query like $1), 0)::float8,
                       coalesce(sum(calls) filter (where query like $2), 0)::bigint,
                       coalesce(sum(total_exec_time) filter (where query like $2), 0)::float8,
                       coalesce(sum(calls) filter (where query like $3 and query not like $4), 0)::bigint,
                       coalesce(sum(total_exec_time) filter (where query like $3 and query not like $4), 0)::float8
                from pg_stat_statements
                where dbid = (select oid from pg_database where datname = current_database())
                """);
            read.Parameters.AddWithValue("%pulse: counting delta%");
            read.Parameters.AddWithValue("%pulse: counting full%");
            read.Parameters.AddWithValue("%uniq_entry_keywords%");
            read.Parameters.AddWithValue("%pulse-load big-event%");
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new StatementTotals(reader.GetInt64(0), reader.GetDouble(1), reader.GetInt64(2), reader.GetDouble(3), reader.GetInt64(4), reader.GetDouble(5));
        }
        catch (PostgresException)
        {
            return null;
        }
    }
}
