using System.Globalization;
using Npgsql;
using Pulse.Testing.Database;

namespace Pulse.LoadTests.Data;

/// <summary>A battle of its own for the big-event scenario: three sides, two hashtags each.</summary>
/// <param name="Id">The event's id.</param>
/// <param name="StartAt">100 minutes before its creation.</param>
/// <param name="EndAt">20 minutes after its creation.</param>
/// <param name="Keywords">Keyword ids, two per side: side s has <c>Keywords[2s]</c> and <c>Keywords[2s + 1]</c>.</param>
/// <param name="IdPrefix">20 hex digits: generated entry g has the id <c>IdPrefix + g as 12 hex digits</c>.</param>
internal sealed record BigEvent(Guid Id, DateTime StartAt, DateTime EndAt, Guid[] Keywords, string IdPrefix)
{
    /// <summary>20 other hex digits of the event's id, for the generated links' ids.</summary>
    public string LinkIdPrefix => Id.ToString("N")[12..];

    /// <summary>The id of generated entry <paramref name="g"/>, as the generating SQL builds it.</summary>
    public Guid EntryId(long g) => Guid.Parse(IdPrefix + g.ToString("x12", CultureInfo.InvariantCulture));
}

/// <summary>
/// The database side of the big-event scenario: generates millions of rows server-side
/// (<c>generate_series</c>, sequential entry ids so the primary key grows at its right edge),
/// writes small batches as the background jobs would, and removes it all afterwards. Every
/// statement carries the comment <c>pulse-load big-event</c>, so statement statistics can leave
/// the tool's own work out. All values go as parameters.
/// </summary>
internal sealed partial class BigEventDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    /// <summary>Marks the tool's own statements in <c>pg_stat_statements</c>.</summary>
    internal const string Tag = "/* pulse-load big-event */ ";

    /// <summary>Every generated entry with <c>g % 20 == 7</c> (5 %) is linked a second time.</summary>
    internal const int SecondLinkModulus = 20;
    internal const int SecondLinkRemainder = 7;

    private static readonly string[] Hashtags = ["#bigevent"];

    private static readonly (string Side, string Name)[] KeywordNames =
        [("Blue", "#blue"), ("Blue", "#goblue"), ("Green", "#green"), ("Green", "#gogreen"), ("Red", "#red"), ("Red", "#gored")];

    /// <summary>Opens its own pool; generation and deletion statements may run for minutes.</summary>
    public static BigEventDatabase Open(string databaseUrl)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStrings.ToKeywords(databaseUrl)) { CommandTimeout = 900 };
        return new BigEventDatabase(NpgsqlDataSource.Create(builder.ConnectionString));
    }

    /// <summary>Creates the battle: from 100 minutes before <paramref name="now"/> to 20 minutes after, running now.</summary>
    public async Task<BigEvent> CreateEventAsync(DateTime now, CancellationToken cancellationToken)
    {
        DateTime start = Microseconds(now.AddMinutes(-100));
        DateTime end = Microseconds(now.AddMinutes(20));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insertEvent = new NpgsqlCommand(
            Tag + "insert into events (name, start_at, end_at) values ($1, $2, $3) returning id", connection, transaction);
        insertEvent.Parameters.AddWithValue("Big event " + now.ToString("O", CultureInfo.InvariantCulture));
        insertEvent.Parameters.AddWithValue(start);
        insertEvent.Parameters.AddWithValue(end);
        var id = (Guid)(await insertEvent.ExecuteScalarAsync(cancellationToken))!;
        var keywords = new Guid[KeywordNames.Length];
        for (int i = 0; i < KeywordNames.Length; i++)
        {
            await using var insertKeyword = new NpgsqlCommand(
                Tag + "insert into keywords (event_id, query, name) values ($1, $2, $3) returning id", connection, transaction);
            insertKeyword.Parameters.AddWithValue(id);
            insertKeyword.Parameters.AddWithValue(KeywordNames[i].Side);
            insertKeyword.Parameters.AddWithValue(KeywordNames[i].Name);
            keywords[i] = (Guid)(await insertKeyword.ExecuteScalarAsync(cancellationToken))!;
        }

        await transaction.CommitAsync(cancellationToken);
        return new BigEvent(id, start, end, keywords, id.ToString("N")[..20]);
    }

    /// <summary>
    /// Generates entries <c>[first, first + count)</c> of <paramref name="total"/> and their links in one
    /// transaction: entry g on side <c>g % 3</c>, through one of the side's two keywords, at
    /// <c>start_at + span × (g + jitter) / total</c>, so the entries spread evenly over the span and each
    /// batch appends to the right end of every keyword's index range; every 20th entry is linked again
    /// through the side's other keyword at another time of the span. Links go in index order with
    /// sequential ids (batch ranges apart: a batch of n entries makes at most 2n links). Returns the links made.
    /// </summary>
    public async Task<long> GenerateAsync(BigEvent bigEvent, long first, long count, long total, double spanSeconds, CancellationToken cancellationToken)
    {
        long last = first + count - 1;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        (NpgsqlTransaction transaction, _) = await BeginUncheckedAsync(connection, cancellationToken);
        await using (transaction)
        {
            await using (var entries = new NpgsqlCommand(
                Tag + """
                insert into uniq_entries (id, hashtags, user_mentions, flat_text, kind, created_at)
                select ($1 || lpad(to_hex(g), 12, '0'))::uuid, $2, '{}', 'big-event generated row', 0,
                       $3 + ($4 * (g + (g * 0.6180339887498949) - floor(g * 0.6180339887498949)) / $7) * interval '1 second'
                from generate_series($5::bigint, $6::bigint) as g
                """, connection, transaction))
            {
                entries.Parameters.AddWithValue(bigEvent.IdPrefix);
                entries.Parameters.AddWithValue(Hashtags);
                entries.Parameters.AddWithValue(bigEvent.StartAt);
                entries.Parameters.AddWithValue(spanSeconds);
                entries.Parameters.AddWithValue(first);
                entries.Parameters.AddWithValue(last);
                entries.Parameters.AddWithValue((double)total);
                await entries.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var links = new NpgsqlCommand(
                Tag + """
                insert into uniq_entry_keywords (id, uniq_entry_id, keyword_id, created_at)
                select ($9 || lpad(to_hex((2 * $5) + row_number() over (order by k, t)), 12, '0'))::uuid, e, k, t
                from (
                  select ($1 || lpad(to_hex(g), 12, '0'))::uuid as e, ($2::uuid[])[1 + (g % 3) * 2 + (g / 3) % 2] as k,
                         $3 + ($4 * (g + (g * 0.6180339887498949) - floor(g * 0.6180339887498949)) / $10) * interval '1 second' as t
                  from generate_series($5::bigint, $6::bigint) as g
                  union all
                  select ($1 || lpad(to_hex(g), 12, '0'))::uuid, ($2::uuid[])[2 + (g % 3) * 2 - (g / 3) % 2],
                         $3 + ($4 * ((g * 0.4142135623730950) - floor(g * 0.4142135623730950))) * interval '1 second'
                  from generate_series($5::bigint, $6::bigint) as g
                  where g % $7 = $8) as l
                order by k, t
                """, connection, transaction);
            links.Parameters.AddWithValue(bigEvent.IdPrefix);
            links.Parameters.AddWithValue(bigEvent.Keywords);
            links.Parameters.AddWithValue(bigEvent.StartAt);
            links.Parameters.AddWithValue(spanSeconds);
            links.Parameters.AddWithValue(first);
            links.Parameters.AddWithValue(last);
            links.Parameters.AddWithValue((long)SecondLinkModulus);
            links.Parameters.AddWithValue((long)SecondLinkRemainder);
            links.Parameters.AddWithValue(bigEvent.LinkIdPrefix);
            links.Parameters.AddWithValue((double)total);
            int made = await links.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return made;
        }
    }

    /// <summary>
    /// A transaction that skips foreign-key checks (<c>session_replication_role = replica</c>, a
    /// superuser's setting) when allowed: generation makes each entry before its links and links only
    /// this event's keywords, and deletion removes entries only this event links; the checks would
    /// cost a lookup per row (a scan of every link per deleted entry, as <c>uniq_entry_id</c> has no
    /// index). Without the privilege: an ordinary transaction, and false.
    /// </summary>
    private static async Task<(NpgsqlTransaction Transaction, bool Unchecked)> BeginUncheckedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using var role = new NpgsqlCommand("set local session_replication_role = replica", connection, transaction);
            await role.ExecuteNonQueryAsync(cancellationToken);
            return (transaction, true);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            await transaction.RollbackAsync(cancellationToken);
            await transaction.DisposeAsync();
            return (await connection.BeginTransactionAsync(cancellationToken), false);
        }
    }

    /// <summary>Fresh statistics and a fresh visibility map, so the planner knows the sizes and index-only scans work.</summary>
    public async Task AnalyzeAndVacuumAsync(CancellationToken cancellationToken)
    {
        await using var analyze = dataSource.CreateCommand(Tag + "analyze uniq_entries, uniq_entry_keywords");
        await analyze.ExecuteNonQueryAsync(cancellationToken);
        await using var vacuum = dataSource.CreateCommand(Tag + "vacuum uniq_entries, uniq_entry_keywords");
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One write batch in one transaction: new entries with their links, and second links of existing entries.</summary>
    public async Task WriteBatchAsync(IReadOnlyList<WriteRow> rows, CancellationToken cancellationToken)
    {
        WriteRow[] fresh = rows.Where(r => r.IsNew).ToArray();
        await using var batch = dataSource.CreateBatch();
        var entries = new NpgsqlBatchCommand(
            Tag + """
            insert into uniq_entries (id, hashtags, user_mentions, flat_text, kind, created_at)
            select id, $3, '{}', 'big-event written row', 0, t from unnest($1::uuid[], $2::timestamptz[]) as u(id, t)
            """);
        entries.Parameters.AddWithValue(fresh.Select(r => r.EntryId).ToArray());
        entries.Parameters.AddWithValue(fresh.Select(r => r.CreatedAt).ToArray());
        entries.Parameters.AddWithValue(Hashtags);
        var links = new NpgsqlBatchCommand(
            Tag + """
            insert into uniq_entry_keywords (uniq_entry_id, keyword_id, created_at)
            select e, k, t from unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) as u(e, k, t)
            """);
        links.Parameters.AddWithValue(rows.Select(r => r.EntryId).ToArray());
        links.Parameters.AddWithValue(rows.Select(r => r.KeywordId).ToArray());
        links.Parameters.AddWithValue(rows.Select(r => r.CreatedAt).ToArray());
        batch.BatchCommands.Add(entries);
        batch.BatchCommands.Add(links);
        // A batch without an explicit transaction runs as one implicit transaction: all or nothing.
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Removes every entry and link of the event, then its keywords and the event. Without the
    /// privilege to skip the foreign-key checks (<see cref="BeginUncheckedAsync"/>) it deletes links
    /// then entries with the checks, which is slow at millions of rows.
    /// </summary>
    public async Task DeleteAsync(BigEvent bigEvent, CancellationToken cancellationToken)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            (NpgsqlTransaction transaction, bool skipsChecks) = await BeginUncheckedAsync(connection, cancellationToken);
            await using (transaction)
            {
                if (skipsChecks)
                {
                    await ExecuteAsync(connection, transaction,
                        Tag + "delete from uniq_entries e using uniq_entry_keywords l where l.uniq_entry_id = e.id and l.keyword_id = any($1)",
                        bigEvent.Keywords, cancellationToken);
                    await ExecuteAsync(connection, transaction, Tag + "delete from uniq_entry_keywords where keyword_id = any($1)",
                        bigEvent.Keywords, cancellationToken);
                }
                else
                {
                    await ExecuteAsync(connection, transaction,
                        Tag + """
                        with gone as (delete from uniq_entry_keywords where keyword_id = any($1) returning uniq_entry_id)
                        delete from uniq_entries where id in (select uniq_entry_id from gone)
                        """,
                        bigEvent.Keywords, cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }
        }

        // With the checks (and the catalog trigger on events, which a replica session would skip).
        await using var removeEvent = dataSource.CreateBatch();
        var keywords = new NpgsqlBatchCommand(Tag + "delete from keywords where event_id = $1");
        keywords.Parameters.AddWithValue(bigEvent.Id);
        var events = new NpgsqlBatchCommand(Tag + "delete from events where id = $1");
        events.Parameters.AddWithValue(bigEvent.Id);
        removeEvent.BatchCommands.Add(keywords);
        removeEvent.BatchCommands.Add(events);
        await removeEvent.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Guid[] keywords, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue(keywords);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>PostgreSQL keeps microseconds: a value rounded so here and there agree.</summary>
    private static DateTime Microseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);

    public async ValueTask DisposeAsync() => await dataSource.DisposeAsync();
}

/// <summary>One link written during the write phase; <see cref="IsNew"/> when its entry is new too.</summary>
internal readonly record struct WriteRow(Guid EntryId, Guid KeywordId, DateTime CreatedAt, bool IsNew);
