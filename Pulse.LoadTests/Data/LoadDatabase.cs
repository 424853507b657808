using Npgsql;
using Pulse.Testing.Database;

namespace Pulse.LoadTests.Data;

/// <summary>
/// The database side of a run: creates an event with keywords, inserts rows as the
/// background jobs would (docs/design.md §4), counts independently, and counts statements.
/// All SQL takes parameters.
/// </summary>
internal sealed partial class LoadDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private static readonly string[] Hashtags = ["#loadtest"];

    /// <summary>
    /// Marks every statement of the tool, so a count of the server's statements can leave them out
    /// (<c>query not like '%pulse-load%'</c> in <c>pg_stat_statements</c>).
    /// </summary>
    internal const string Tag = "/* pulse-load */ ";

    /// <summary>
    /// Opens a pool without Npgsql's reset on return (a <c>DISCARD ALL</c> before a connection's next use):
    /// the tool sets no session state, and an unmarked <c>DISCARD ALL</c> per insert would be counted as
    /// the server's statement.
    /// </summary>
    public static LoadDatabase Open(string databaseUrl) =>
        new(NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ConnectionStrings.ToKeywords(databaseUrl)) { NoResetOnClose = true }.ConnectionString));

    /// <summary>Creates a battle running from an hour ago to an hour ahead, two sides, three hashtags; returns its id.</summary>
    public async Task<Guid> CreateEventAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insertEvent = new NpgsqlCommand(
            Tag + "insert into events (name, start_at, end_at) values ($1, now() - interval '1 hour', now() + interval '1 hour') returning id",
            connection, transaction);
        insertEvent.Parameters.AddWithValue("Load test " + DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var id = (Guid)(await insertEvent.ExecuteScalarAsync(cancellationToken))!;
        (string Query, string Name)[] keywords = [("Blue", "#blue"), ("Blue", "#goblue"), ("Red", "#red")];
        foreach (var (query, name) in keywords)
        {
            await using var insertKeyword = new NpgsqlCommand(
                Tag + "insert into keywords (event_id, query, name) values ($1, $2, $3)", connection, transaction);
            insertKeyword.Parameters.AddWithValue(id);
            insertKeyword.Parameters.AddWithValue(query);
            insertKeyword.Parameters.AddWithValue(name);
            await insertKeyword.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return id;
    }

    /// <summary>The keyword ids of an event, for spreading inserted rows over its sides.</summary>
    public async Task<Guid[]> KeywordIdsAsync(Guid eventId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Tag + "select id from keywords where event_id = $1 order by name");
        command.Parameters.AddWithValue(eventId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids.ToArray();
    }

    /// <summary>One tweet: a <c>uniq_entries</c> row and its link to <paramref name="keywordId"/>, created now, in one statement.</summary>
    public async Task InsertEntryAsync(Guid keywordId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Tag +
            """
            with entry as (
              insert into uniq_entries (hashtags, user_mentions, flat_text, kind, created_at)
              values ($1, $2, $3, 0, now()) returning id)
            insert into uniq_entry_keywords (uniq_entry_id, keyword_id, created_at)
            select id, $4, now() from entry
            """);
        command.Parameters.AddWithValue(Hashtags);
        command.Parameters.AddWithValue(Array.Empty<string>());
        command.Parameters.AddWithValue("a tweet from Pulse.LoadTests");
        command.Parameters.AddWithValue(keywordId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Counts per query as docs/design.md §5 defines them, independently of the server: distinct
    /// entries linked to any keyword of the query, linked within [start_at, end_at).
    /// </summary>
    public async Task<SortedDictionary<string, long>> CountsAsync(Guid eventId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Tag +
            """
            select k.query, count(distinct uek.uniq_entry_id)
            from events e
            join keywords k on k.event_id = e.id
            left join uniq_entry_keywords uek
              on uek.keyword_id = k.id and uek.created_at >= e.start_at and uek.created_at < e.end_at
            where e.id = $1
            group by k.query
            """);
        command.Parameters.AddWithValue(eventId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    public async ValueTask DisposeAsync() => await dataSource.DisposeAsync();
}
