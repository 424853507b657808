using Npgsql;

namespace Pulse.Demo;

/// <summary>A keyword row: one hashtag counted for one side.</summary>
internal sealed record DemoKeyword(Guid Id, string Query, string Hashtag);

/// <summary>
/// The demo's writes: what the background jobs do in production (Pulse itself never writes these
/// tables). Every value is a parameter.
/// </summary>
internal static class DemoStore
{
    /// <summary>Inserts the event and its keywords; returns the event id and the keywords of each side, in side order.</summary>
    public static async Task<(Guid EventId, IReadOnlyList<DemoKeyword[]> Sides)> CreateBattleAsync(NpgsqlDataSource dataSource, DemoBattle battle, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid eventId;
        await using (var insert = new NpgsqlCommand("INSERT INTO events (name, start_at, end_at) VALUES ($1, $2, $3) RETURNING id", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = battle.Name });
            insert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = battle.StartAt });
            insert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = battle.EndAt });
            eventId = (Guid)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        var sides = new List<DemoKeyword[]>();
        foreach (var side in battle.Sides)
        {
            var keywords = new DemoKeyword[side.Hashtags.Length];
            for (int i = 0; i < keywords.Length; i++)
            {
                await using var keyword = new NpgsqlCommand("INSERT INTO keywords (event_id, query, name) VALUES ($1, $2, $3) RETURNING id", connection, transaction);
                keyword.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = eventId });
                keyword.Parameters.Add(new NpgsqlParameter<string> { TypedValue = side.Query });
                keyword.Parameters.Add(new NpgsqlParameter<string> { TypedValue = side.Hashtags[i] });
                keywords[i] = new DemoKeyword((Guid)(await keyword.ExecuteScalarAsync(cancellationToken))!, side.Query, side.Hashtags[i]);
            }

            sides.Add(keywords);
        }

        await transaction.CommitAsync(cancellationToken);
        return (eventId, sides);
    }

    /// <summary>Inserts the entries and their keyword links in one round trip and one transaction.</summary>
    public static async Task InsertAsync(NpgsqlDataSource dataSource, TweetBatch tweets, CancellationToken cancellationToken)
    {
        if (tweets.Count == 0)
        {
            return;
        }

        // One Sync for the whole batch: PostgreSQL runs both statements in one implicit transaction,
        // so a reader never sees entries without their links.
        await using var batch = dataSource.CreateBatch();
        var entries = new NpgsqlBatchCommand(
            "INSERT INTO uniq_entries (id, hashtags, flat_text, kind, created_at) " +
            "SELECT id, string_to_array(tags, ' '), text, 0, at FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS t(id, tags, text, at)");
        entries.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. tweets.EntryIds] });
        entries.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. tweets.Hashtags] });
        entries.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. tweets.Texts] });
        entries.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. tweets.EntryTimes] });
        var links = new NpgsqlBatchCommand(
            "INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])");
        links.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. tweets.LinkEntryIds] });
        links.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. tweets.LinkKeywordIds] });
        links.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. tweets.LinkTimes] });
        batch.BatchCommands.Add(entries);
        batch.BatchCommands.Add(links);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
