using Npgsql;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Pipeline;

/// <summary>
/// Statement executions in one test database as PostgreSQL counts them (<c>pg_stat_statements</c>,
/// loaded by <c>scripts/postgres.sh</c>), not as Pulse's own counters say.
/// </summary>
/// <remarks>
/// Reads on one connection held open for the test: a pooled connection would be reset
/// (<c>DISCARD ALL</c>) between readings and show up as a statement itself. The readings mention
/// <c>pg_stat_statements</c>, which is how <see cref="AllAsync"/> leaves them out.
/// </remarks>
internal sealed class StatementCounter : IAsyncDisposable
{
    // The statement that starts every read of counts (docs/design.md §18): the header of a full read
    // (CountingRead.HeaderSql), or one grouped delta read for one or many events (GroupDeltaSql); nothing
    // else in the database has these texts.
    private const string ViewModelPattern = "pulse: counting (header|deltas)";
    private const string ThisDatabase = "dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";
    private readonly NpgsqlConnection _connection;

    private StatementCounter(NpgsqlConnection connection) => _connection = connection;

    public static async Task<StatementCounter> OpenAsync(TestDatabase database)
    {
        await database.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        return new StatementCounter(await database.DataSource.OpenConnectionAsync());
    }

    /// <summary>Reads of counts: executions of the statements that start one (a grouped delta read counts once).</summary>
    public Task<long> ViewModelAsync() => ScalarAsync($"SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE {ThisDatabase} AND query ~ $1", ViewModelPattern);

    /// <summary>Executions of every statement but these readings.</summary>
    public Task<long> AllAsync() => ScalarAsync($"SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE {ThisDatabase} AND query NOT LIKE $1", "%pg_stat_statements%");

    /// <summary>Calls per statement text (for failure messages: what ran).</summary>
    public async Task<Dictionary<string, long>> ByStatementAsync()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand($"SELECT query, sum(calls)::bigint FROM pg_stat_statements WHERE {ThisDatabase} GROUP BY query", _connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            calls[reader.GetString(0)] = reader.GetInt64(1);
        }

        return calls;
    }

    /// <summary>Statements whose calls grew between two <see cref="ByStatementAsync"/> readings.</summary>
    public static string Growth(Dictionary<string, long> before, Dictionary<string, long> after) => string.Join(
        "\n", after.Where(p => p.Value > before.GetValueOrDefault(p.Key)).Select(p => $"+{p.Value - before.GetValueOrDefault(p.Key)}: {p.Key}"));

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private async Task<long> ScalarAsync(string sql, string pattern)
    {
        await using var command = new NpgsqlCommand(sql, _connection);
        command.Parameters.Add(new NpgsqlParameter { Value = pattern });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
