using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Pulse.Storage;

/// <summary>
/// Reads an event's links into its <see cref="CountingState"/> (docs/design.md §18): a full read (and a
/// verification) in one REPEATABLE READ transaction, a delta read in one statement for many events
/// (CountingRead.Group.cs), so the header, the links and the snapshot recorded with them are always one
/// view of the database. A delta read folds only the links whose transaction the previous snapshot did
/// not see; a full read builds a new state from every link in the window.
/// </summary>
internal static partial class CountingRead
{
    // The header and the snapshot of this transaction. Sides in code point order (COLLATE "C"), as the
    // links' side numbers below; Keywords fingerprints the keyword ids and queries.
    internal const string HeaderSql = """
        -- pulse: counting header
        SELECT pg_current_snapshot()::text, e.name, e.start_at, e.end_at, date_trunc('minute', e.start_at, 'UTC'),
               ARRAY(SELECT DISTINCT k.query COLLATE "C" FROM keywords k WHERE k.event_id = e.id ORDER BY 1),
               array_to_string(ARRAY(SELECT k.id::text || ' ' || k.query FROM keywords k WHERE k.event_id = e.id ORDER BY k.id), ',')
        FROM events e WHERE e.id = $1
        """;

    // Every link of the event inside [start_at, end_at), from the links named next: side number, entry,
    // created_at.
    private const string Sides = """

        SELECT k.side, l.uniq_entry_id, l.created_at
        FROM events e
        JOIN (SELECT id, (dense_rank() OVER (ORDER BY query COLLATE "C"))::int - 1 AS side FROM keywords WHERE event_id = $1) k ON true
        JOIN
        """;

    private const string Window = " l ON l.keyword_id = k.id AND l.created_at >= e.start_at AND l.created_at < e.end_at WHERE e.id = $1";

    // All of them: the index (keyword_id, created_at) INCLUDE (uniq_entry_id), one range per keyword.
    internal const string FullSql = "-- pulse: counting full" + Sides + " uniq_entry_keywords" + Window;

    // Only those of the transactions snapshot $2 did not see: begun at or after its xmax, or in progress
    // then ($3, its xip as an array literal, all below xmax: the two arms never meet). Each arm walks the
    // index (keyword_id, pulse_xact) of migration 005, per keyword of the event: it reads this event's
    // new links and nothing else. Both bounds are constants of each execution's plan (custom plans), so
    // the planner estimates the few links they find (an xip hidden in a subquery's array was estimated
    // at thousands of rows a keyword, and the keyword index's walk of the whole window won; measured).
    internal const string DeltaSql = "-- pulse: counting delta" + Sides + " uniq_entry_keywords" + Window
        + " AND l.pulse_xact >= pg_snapshot_xmax($2::pg_snapshot)\nUNION ALL" + Sides + " uniq_entry_keywords" + Window
        + " AND l.pulse_xact = ANY ($3::text::xid8[])";

    /// <summary>
    /// Brings <paramref name="state"/> up to date, or reads a new one when <paramref name="state"/> is
    /// null, its header no longer counts the same way, or <paramref name="verify"/> asks for the full read
    /// to compare with. Returns null when the event does not exist.
    /// </summary>
    public static Task<CountingResult?> ReadAsync(NpgsqlDataSource dataSource, Guid eventId, CountingState? state, bool verify, CancellationToken cancellationToken) =>
        ReadAsync(dataSource, eventId, state, verify, sizeHint: state, cancellationToken);

    /// <summary>
    /// As above; a full read sizes its new state after <paramref name="sizeHint"/> (the state it
    /// replaces), so its tables do not grow step by step while the old one is still held.
    /// </summary>
    public static async Task<CountingResult?> ReadAsync(NpgsqlDataSource dataSource, Guid eventId, CountingState? state, bool verify, CountingState? sizeHint, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command(HeaderSql, eventId));
        if (state is not null)
        {
            var delta = Command(DeltaSql, eventId);
            delta.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = state.Snapshot });
            delta.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = InProgress(state.Snapshot) });
            batch.BatchCommands.Add(delta);
        }

        if (state is null || verify)
        {
            batch.BatchCommands.Add(Command(FullSql, eventId));
        }

        await batch.PrepareAsync(cancellationToken);
        CountingResult? result;
        bool readAll;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            (result, readAll) = await FoldAsync(reader, state, verify, sizeHint, cancellationToken);
        }

        if (readAll)
        {
            // The keywords or the window changed: the links read so far counted for other sides. Read them
            // all again in this same transaction, so the snapshot is still the header's.
            await using var full = new NpgsqlCommand(FullSql, connection, transaction);
            full.Parameters.Add(new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = eventId });
            await full.PrepareAsync(cancellationToken);
            await using var reader = await full.ExecuteReaderAsync(cancellationToken);
            await FoldLinksAsync(reader, result!.State, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// The in-progress transactions of a <c>pg_snapshot</c> in its text form <c>xmin:xmax:xip,…</c>, as an
    /// array literal: <c>{xip,…}</c>, <c>{}</c> when there are none.
    /// </summary>
    internal static string InProgress(string snapshot) => "{" + snapshot[(snapshot.LastIndexOf(':') + 1)..] + "}";

    // ReadAll: the result's state is new and empty, the links are still to be read (a stale header).
    private static async Task<(CountingResult? Result, bool ReadAll)> FoldAsync(NpgsqlDataReader reader, CountingState? state, bool verify, CountingState? sizeHint, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (null, false);
        }

        string snapshot = reader.GetString(0);
        var header = new EventHeader(
            reader.GetString(1), reader.GetFieldValue<DateTime>(2), reader.GetFieldValue<DateTime>(3),
            reader.GetFieldValue<DateTime>(4), reader.GetFieldValue<string[]>(5), reader.GetString(6));

        // The delta's links count only while the sides and the window are those the state was built with.
        bool stale = false;
        if (state is not null)
        {
            await reader.NextResultAsync(cancellationToken);
            stale = !header.SameCounting(state.Header);
            if (!stale)
            {
                await FoldLinksAsync(reader, state, cancellationToken);
                state.Header = header;
                state.Snapshot = snapshot;
            }
        }

        if (state is not null && !verify)
        {
            return stale
                ? (new CountingResult(new CountingState(header, snapshot, sizeHint), Full: true, Drift: null), true)
                : (new CountingResult(state, Full: false, Drift: null), false);
        }

        await reader.NextResultAsync(cancellationToken);
        var fresh = new CountingState(header, snapshot, sizeHint);
        await FoldLinksAsync(reader, fresh, cancellationToken);
        long? drift = state is not null && !stale ? state.DifferingRecords(fresh) : null;
        return (new CountingResult(fresh, Full: true, drift), false);
    }

    private static async Task FoldLinksAsync(NpgsqlDataReader reader, CountingState state, CancellationToken cancellationToken)
    {
        while (await reader.ReadAsync(cancellationToken))
        {
            state.Fold(reader.GetInt32(0), reader.GetGuid(1), reader.GetFieldValue<DateTime>(2));
        }
    }

    private static NpgsqlBatchCommand Command(string sql, Guid eventId)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = eventId });
        return command;
    }
}

/// <summary>
/// A read's outcome: the state now exact for its snapshot, whether it was built from every link, and,
/// for a verification, how many (side, entry) records the incremental state had wrong.
/// </summary>
internal sealed record CountingResult(CountingState State, bool Full, long? Drift);
