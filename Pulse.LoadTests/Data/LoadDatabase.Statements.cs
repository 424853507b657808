using Npgsql;

namespace Pulse.LoadTests.Data;

internal sealed partial class LoadDatabase
{
    /// <summary>
    /// A reading of how much work the database did: committed transactions of this database
    /// (<c>pg_stat_database.xact_commit</c>; every statement outside an explicit transaction
    /// is one) and, when <c>pg_stat_statements</c> is installed, the calls it counted.
    /// </summary>
    internal readonly record struct StatementReading(long Commits, long? StatementCalls);

    /// <summary>
    /// Reads the counters. PostgreSQL 15 flushes backend statistics about once a second, so
    /// callers wait <see cref="StatisticsSettle"/> before a reading that must include recent work.
    /// </summary>
    public async Task<StatementReading> ReadStatementsAsync(CancellationToken cancellationToken)
    {
        var (connection, commitCount, hasStatements) = await BeginReadingAsync(cancellationToken);
        await using (connection)
        {
            if (!hasStatements)
            {
                return new StatementReading(commitCount, null);
            }

            await using var sum = new NpgsqlCommand(
                Tag + "select coalesce(sum(calls), 0)::bigint from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())",
                connection);
            return new StatementReading(commitCount, (long)(await sum.ExecuteScalarAsync(cancellationToken))!);
        }
    }

    // The start of every reading: a fresh statistics snapshot, this database's commits, and whether
    // pg_stat_statements is installed (three statements; the caller disposes the connection).
    private async Task<(NpgsqlConnection Connection, long Commits, bool HasStatements)> BeginReadingAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using (var clear = new NpgsqlCommand(Tag + "select pg_stat_clear_snapshot()", connection))
            {
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var commits = new NpgsqlCommand(
                Tag + "select xact_commit from pg_stat_database where datname = current_database()", connection);
            long commitCount = (long)(await commits.ExecuteScalarAsync(cancellationToken))!;
            await using var has = new NpgsqlCommand(Tag + "select count(*) from pg_extension where extname = 'pg_stat_statements'", connection);
            return (connection, commitCount, (long)(await has.ExecuteScalarAsync(cancellationToken))! > 0);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A little over PostgreSQL's statistics flush interval (PGSTAT_MIN_INTERVAL, 1 s).</summary>
    public static readonly TimeSpan StatisticsSettle = TimeSpan.FromMilliseconds(1500);

    /// <summary>Statements each <see cref="ReadStatementsAsync"/> itself commits (clear, commits, has-extension, maybe sum).</summary>
    public const int OwnStatementsPerReading = 4;
}
