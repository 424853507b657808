using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Pulse.Benchmarks;

/// <summary>
/// One generated battle of the big-event measurement: the event's window, its six keywords (two per side,
/// in the order Barça, Madrid, Atleti), how many entries and links the generator wrote, and the clock the
/// window was set from.
/// </summary>
internal sealed record BigEvent(Guid Id, DateTime StartAt, DateTime EndAt, DateTime CreatedAt, Guid[] Keywords, int Entries, int Links);

/// <summary>
/// Writes big battles server-side (<c>INSERT … SELECT generate_series</c>), as the background jobs would:
/// entries first, then their links, in statements of at most <see cref="Batch"/> rows, each committed on
/// its own. Entry <c>i</c> of an event has the id <c>md5(event id || i)</c>, so links and ticks name it
/// without reading it back, and the created_at of its first link <c>start + span · frac(i · φ)</c>, spread
/// evenly over [start, now).
/// </summary>
internal static class BigEventData
{
    /// <summary>Rows per generating statement.</summary>
    public const int Batch = 1_000_000;

    /// <summary>A tick's links: what 200 rows/s bring in one 500 ms tick.</summary>
    public const int TickLinks = 100;

    /// <summary>Of a tick's links, those of entries written before the tick (their second keyword).</summary>
    public const int TickSecondLinks = 5;

    /// <summary>Of a tick's new entries, those written late (minutes ago, inside the window).</summary>
    public const int TickLateEntries = 10;

    /// <summary>New entries per tick.</summary>
    public const int TickEntries = TickLinks - TickSecondLinks;

    private static readonly (string Side, string Name)[] KeywordNames =
    [
        ("Barça", "#ForçaBarça"), ("Barça", "#Culers"),
        ("Madrid", "#HalaMadrid"), ("Madrid", "#RealMadrid"),
        ("Atleti", "#AúpaAtleti"), ("Atleti", "#Colchoneros"),
    ];

    // frac(i · φ) of the golden ratio: a low-discrepancy spread of the entries over the span (µs).
    private const string FirstAt = "($4 + interval '1 microsecond' * floor($5 * (i * 0.6180339887498949::float8 - floor(i * 0.6180339887498949::float8))))";

    private const string EntriesSql = $"""
        INSERT INTO uniq_entries (id, created_at)
        SELECT md5($1 || i)::uuid, {FirstAt}
        FROM generate_series($2, $3) AS i
        """;

    // The first link of entry i: side i mod 3, its first keyword.
    private const string FirstLinksSql = $"""
        INSERT INTO uniq_entry_keywords (id, uniq_entry_id, keyword_id, created_at)
        SELECT gen_random_uuid(), md5($1 || i)::uuid, $6[(i % 3) * 2 + 1], {FirstAt}
        FROM generate_series($2, $3) AS i
        """;

    // Entries 0, 20, 40, … (one in twenty: 5 %): a second link through the other keyword of the same side,
    // half-way between the first link and the generator's now ($7), so later than the first.
    private const string SecondLinksSql = $"""
        INSERT INTO uniq_entry_keywords (id, uniq_entry_id, keyword_id, created_at)
        SELECT gen_random_uuid(), md5($1 || i)::uuid, $6[(i % 3) * 2 + 2], first_at + ($7 - first_at) / 2
        FROM generate_series($2, $3) AS j
        CROSS JOIN LATERAL (SELECT j * 20 AS i) AS x
        CROSS JOIN LATERAL (SELECT {FirstAt} AS first_at) AS y
        """;

    // One committed transaction (one statement): 95 new entries, 85 of them at the tick's clock $3 and 10
    // late (5, 14, …, 86 minutes before it), each with a link through its side's first keyword, and 5 second
    // links (second keyword, at $3) of generated entries $5.
    private const string TickSql = """
        WITH fresh AS (
            SELECT n, md5($1 || ':tick' || $2 || ':' || n)::uuid AS id,
                   CASE WHEN n < 85 THEN $3 ELSE $3 - interval '1 minute' * (5 + (n - 85) * 9) END AS created_at
            FROM generate_series(0, 94) AS n
        ), entries AS (
            INSERT INTO uniq_entries (id, created_at) SELECT id, created_at FROM fresh
        )
        INSERT INTO uniq_entry_keywords (id, uniq_entry_id, keyword_id, created_at)
        SELECT gen_random_uuid(), id, $4[(n % 3) * 2 + 1], created_at FROM fresh
        UNION ALL
        SELECT gen_random_uuid(), md5($1 || i)::uuid, $4[(i % 3) * 2 + 2], $3 FROM unnest($5::int[]) AS i
        """;

    /// <summary>
    /// Creates a two-hour, three-sided battle whose window runs now (start = now − 110 min, end = now + 10 min)
    /// with <paramref name="links"/> links: entries = ⌈links / 1.05⌉, one in twenty of them linked twice.
    /// Writes the phases' seconds to <paramref name="log"/>.
    /// </summary>
    public static async Task<BigEvent> CreateAsync(NpgsqlDataSource dataSource, int links, TextWriter log, CancellationToken cancellationToken)
    {
        var now = Microseconds(DateTime.UtcNow);
        var start = now.AddMinutes(-110);
        var end = now.AddMinutes(10);
        int entries = (int)Math.Ceiling(links / 1.05);
        int seconds = links - entries;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // Commits flushed at once (scripts/postgres.sh runs with synchronous_commit off): VACUUM marks a page
        // all-visible only when its rows' commits are on disk, and the full reads are index-only scans only
        // on all-visible pages. Reset before the connection goes back to the pool.
        await ExecuteAsync(connection, "SET synchronous_commit = on", cancellationToken);
        Guid id;
        await using (var insert = new NpgsqlCommand("INSERT INTO events (name, start_at, end_at) VALUES ($1, $2, $3) RETURNING id", connection))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"Barça vs Madrid vs Atleti ({links:N0} links)" });
            insert.Parameters.Add(Timestamp(start));
            insert.Parameters.Add(Timestamp(end));
            id = (Guid)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        var keywords = new Guid[KeywordNames.Length];
        for (int k = 0; k < keywords.Length; k++)
        {
            keywords[k] = Guid.NewGuid();
            await using var insert = new NpgsqlCommand("INSERT INTO keywords (id, event_id, query, name) VALUES ($1, $2, $3, $4)", connection);
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = keywords[k] });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = KeywordNames[k].Side });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = KeywordNames[k].Name });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var bigEvent = new BigEvent(id, start, end, now, keywords, entries, links);
        long spanMicroseconds = (now - start).Ticks / 10;
        var phase = Stopwatch.StartNew();
        await InBatchesAsync(connection, EntriesSql, bigEvent, entries, spanMicroseconds, cancellationToken);
        log.WriteLine($"  uniq_entries: {entries:N0} rows in {phase.Elapsed.TotalSeconds:F1} s");
        phase.Restart();
        await InBatchesAsync(connection, FirstLinksSql, bigEvent, entries, spanMicroseconds, cancellationToken);
        await InBatchesAsync(connection, SecondLinksSql, bigEvent, seconds, spanMicroseconds, cancellationToken);
        log.WriteLine($"  uniq_entry_keywords: {links:N0} rows ({seconds:N0} second links) in {phase.Elapsed.TotalSeconds:F1} s");
        phase.Restart();
        await ExecuteAsync(connection, "VACUUM (ANALYZE) uniq_entries, uniq_entry_keywords", cancellationToken);

        log.WriteLine($"  VACUUM ANALYZE: {phase.Elapsed.TotalSeconds:F1} s");
        await ExecuteAsync(connection, "RESET synchronous_commit", cancellationToken);
        return bigEvent;
    }

    /// <summary>
    /// Commits one tick's <see cref="TickLinks"/> links (round <paramref name="round"/>, clock
    /// <paramref name="at"/>), the second links on generated entries drawn from <paramref name="random"/>.
    /// </summary>
    public static async Task InsertTickAsync(NpgsqlDataSource dataSource, BigEvent bigEvent, int round, DateTime at, Random random, CancellationToken cancellationToken)
    {
        var existing = new int[TickSecondLinks];
        for (int i = 0; i < existing.Length; i++)
        {
            existing[i] = random.Next(bigEvent.Entries);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var insert = new NpgsqlCommand(TickSql, connection);
        insert.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = bigEvent.Id.ToString() });
        insert.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = round.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        insert.Parameters.Add(Timestamp(at));
        insert.Parameters.Add(new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, TypedValue = bigEvent.Keywords });
        insert.Parameters.Add(new NpgsqlParameter<int[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, TypedValue = existing });
        int written = await insert.ExecuteNonQueryAsync(cancellationToken);
        if (written != TickLinks)
        {
            throw new InvalidOperationException($"a tick wrote {written} links, not {TickLinks}");
        }
    }

    /// <summary>The time truncated to PostgreSQL's microseconds, so what is sent is what is stored.</summary>
    public static DateTime Microseconds(DateTime time) => new(time.Ticks - (time.Ticks % 10), DateTimeKind.Utc);

    public static NpgsqlParameter<DateTime> Timestamp(DateTime value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = DateTime.SpecifyKind(value, DateTimeKind.Utc) };

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Rows 0 … count − 1 of one generating statement, Batch at a time, each statement its own transaction.
    private static async Task InBatchesAsync(NpgsqlConnection connection, string sql, BigEvent bigEvent, int count, long spanMicroseconds, CancellationToken cancellationToken)
    {
        for (int low = 0; low < count; low += Batch)
        {
            int high = (int)Math.Min((long)low + Batch, count) - 1;
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = bigEvent.Id.ToString() });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = low });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = high });
            command.Parameters.Add(Timestamp(bigEvent.StartAt));
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = spanMicroseconds });
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, TypedValue = bigEvent.Keywords });
            command.Parameters.Add(Timestamp(bigEvent.CreatedAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
