using Npgsql;

namespace Pulse.LoadTests.Data;

internal sealed partial class LoadDatabase
{
    /// <summary>
    /// The server's statements as <c>pg_stat_statements</c> counts them in this database, the tool's own
    /// (marked <see cref="Tag"/>) left out: calls per statement (by query id, top level or not) with its
    /// text. Null <see cref="Calls"/> when the extension is absent.
    /// </summary>
    internal sealed record ServerStatements(long Commits, IReadOnlyDictionary<string, (string Query, long Calls)>? Calls)
    {
        public long? TotalCalls => Calls?.Values.Sum(c => c.Calls);
    }

    /// <summary>Statements each <see cref="ReadServerStatementsAsync"/> commits itself, counted between two readings (3 without the extension).</summary>
    public const int OwnStatementsPerServerReading = 4;

    /// <summary>
    /// Reads <c>xact_commit</c> of this database and every statement of <c>pg_stat_statements</c> whose
    /// text does not contain <c>pulse-load</c> (so their sum is
    /// <c>SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%pulse-load%'</c>). As with
    /// <see cref="ReadStatementsAsync"/>, wait <see cref="StatisticsSettle"/> before a reading that
    /// must include recent transactions.
    /// </summary>
    public async Task<ServerStatements> ReadServerStatementsAsync(CancellationToken cancellationToken)
    {
        var (connection, commitCount, hasStatements) = await BeginReadingAsync(cancellationToken);
        await using var owned = connection;
        if (!hasStatements)
        {
            return new ServerStatements(commitCount, null);
        }

        await using var read = new NpgsqlCommand(
            Tag + """
            select coalesce(queryid, 0)::text || ':' || toplevel::text, query, calls
            from pg_stat_statements
            where dbid = (select oid from pg_database where datname = current_database())
              and query not like '%pulse-load%'
            """,
            connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var calls = new Dictionary<string, (string Query, long Calls)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            string key = reader.GetString(0);
            long count = reader.GetInt64(2);
            // One query id can have a row per user; they are one statement here.
            calls[key] = calls.TryGetValue(key, out var seen) ? (seen.Query, seen.Calls + count) : (reader.GetString(1), count);
        }

        return new ServerStatements(commitCount, calls);
    }

    /// <summary>The statements whose calls grew most between two readings: (calls, text), most first.</summary>
    public static IReadOnlyList<(long Calls, string Query)> TopStatements(ServerStatements before, ServerStatements after, int count)
    {
        if (before.Calls is not { } b || after.Calls is not { } a)
        {
            return [];
        }

        return a.Select(p => (Calls: p.Value.Calls - (b.TryGetValue(p.Key, out var old) ? old.Calls : 0), p.Value.Query))
            .Where(s => s.Calls > 0)
            .OrderByDescending(s => s.Calls)
            .Take(count)
            .ToList();
    }
}
