using Npgsql;
using NpgsqlTypes;

namespace Pulse.Storage;

/// <summary>What a grouped delta read did to one event's state.</summary>
internal enum DeltaOutcome
{
    /// <summary>The state is exact for the statement's snapshot.</summary>
    Folded,

    /// <summary>The keywords or the window changed: the state is untouched and needs a full read.</summary>
    Stale,

    /// <summary>The event is gone.</summary>
    Gone,
}

internal static partial class CountingRead
{
    /// <summary>Events one grouped statement reads at most; a larger group is split.</summary>
    internal const int MaxGroup = 256;

    // The headers and the new links of many events in one statement, and so under one snapshot (each
    // statement of READ COMMITTED has its own, which pg_current_snapshot() returns): no transaction, one
    // statement a round however many events are due, where a transaction per event cost four (BEGIN, header,
    // delta, COMMIT). $2 covers the last snapshot of every event of the group (Covering). Header rows have a NULL side.
    // The delta arms are those of DeltaSql, per keyword of every event, on the index (keyword_id, pulse_xact).
    internal const string GroupDeltaSql = """
        -- pulse: counting deltas
        WITH e AS MATERIALIZED (SELECT id, name, start_at, end_at FROM events WHERE id = ANY ($1::uuid[])),
        k AS MATERIALIZED (
            SELECT kw.id, kw.event_id, (dense_rank() OVER (PARTITION BY kw.event_id ORDER BY kw.query COLLATE "C"))::int - 1 AS side
            FROM keywords kw WHERE kw.event_id = ANY ($1::uuid[]))
        SELECT e.id, NULL::int, NULL::uuid, NULL::timestamptz, pg_current_snapshot()::text, e.name, e.start_at, e.end_at,
               date_trunc('minute', e.start_at, 'UTC'),
               ARRAY(SELECT DISTINCT q.query COLLATE "C" FROM keywords q WHERE q.event_id = e.id ORDER BY 1),
               array_to_string(ARRAY(SELECT q.id::text || ' ' || q.query FROM keywords q WHERE q.event_id = e.id ORDER BY q.id), ',')
        FROM e
        UNION ALL
        SELECT k.event_id, k.side, l.uniq_entry_id, l.created_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM k JOIN e ON e.id = k.event_id
        JOIN uniq_entry_keywords l ON l.keyword_id = k.id AND l.created_at >= e.start_at AND l.created_at < e.end_at
             AND l.pulse_xact >= pg_snapshot_xmax($2::pg_snapshot)
        UNION ALL
        SELECT k.event_id, k.side, l.uniq_entry_id, l.created_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM k JOIN e ON e.id = k.event_id
        JOIN uniq_entry_keywords l ON l.keyword_id = k.id AND l.created_at >= e.start_at AND l.created_at < e.end_at
             AND l.pulse_xact = ANY ($3::text::xid8[])
        """;

    /// <summary>
    /// Brings every state of <paramref name="states"/> (at most <see cref="MaxGroup"/>, of distinct events)
    /// up to date in one statement, folding in place. The statement reads every link the oldest of their
    /// snapshots did not see (<see cref="Covering"/>); a state that had seen some of them folds them again,
    /// which changes nothing. A state whose event's header changed is left as it was
    /// (<see cref="DeltaOutcome.Stale"/>). When the statement fails part way, every state is still exact
    /// for its old snapshot (folds are idempotent): it is retried.
    /// </summary>
    public static async Task<DeltaOutcome[]> ReadDeltasAsync(NpgsqlDataSource dataSource, IReadOnlyList<(Guid EventId, CountingState State)> states, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(states.Count, MaxGroup);
        var index = new Dictionary<Guid, int>(states.Count);
        var ids = new Guid[states.Count];
        var snapshots = new string[states.Count];
        for (int i = 0; i < states.Count; i++)
        {
            ids[i] = states[i].EventId;
            snapshots[i] = states[i].State.Snapshot;
            index.Add(ids[i], i);
        }

        string snapshot = Covering(snapshots);

        var outcomes = new DeltaOutcome[states.Count];
        Array.Fill(outcomes, DeltaOutcome.Gone);
        var headers = new EventHeader?[states.Count];
        List<(int Index, int Side, Guid Entry, DateTime CreatedAt)>? early = null;
        string? next = null;

        await using (var command = dataSource.CreateCommand(GroupDeltaSql))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, TypedValue = ids });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = snapshot });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = InProgress(snapshot) });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                int i = index[reader.GetGuid(0)];
                if (reader.IsDBNull(1))
                {
                    next = reader.GetString(4);
                    var header = new EventHeader(
                        reader.GetString(5), reader.GetFieldValue<DateTime>(6), reader.GetFieldValue<DateTime>(7),
                        reader.GetFieldValue<DateTime>(8), reader.GetFieldValue<string[]>(9), reader.GetString(10));
                    headers[i] = header;
                    outcomes[i] = header.SameCounting(states[i].State.Header) ? DeltaOutcome.Folded : DeltaOutcome.Stale;
                    continue;
                }

                int side = reader.GetInt32(1);
                var entry = reader.GetGuid(2);
                var createdAt = reader.GetFieldValue<DateTime>(3);
                if (headers[i] is null)
                {
                    // The header arm comes first in practice; the order of UNION ALL is not promised.
                    (early ??= []).Add((i, side, entry, createdAt));
                }
                else if (outcomes[i] == DeltaOutcome.Folded)
                {
                    states[i].State.Fold(side, entry, createdAt);
                }
            }
        }

        foreach (var (i, side, entry, createdAt) in early ?? [])
        {
            if (outcomes[i] == DeltaOutcome.Folded)
            {
                states[i].State.Fold(side, entry, createdAt);
            }
        }

        for (int i = 0; i < states.Count; i++)
        {
            if (outcomes[i] == DeltaOutcome.Folded)
            {
                states[i].State.Header = headers[i]!;
                states[i].State.Snapshot = next!;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// How far (in transaction ids) the <c>xmax</c> of the states read in one statement may lag the newest
    /// of them. The statement reads from the least (<see cref="Covering"/>), so a state read long ago would
    /// make every other one read, and fold again, the links of every transaction since: a battle ended
    /// hours ago that gets a late link would drag a 10,000,000-link battle's hours back into its tick, past
    /// the command timeout, every tick. Within a tick the states' snapshots differ by the few transactions
    /// of the round (a flood's tick reads every event at one snapshot); 500 transactions are seconds of
    /// this machine's traffic (40 NOTIFY batches a second and the writers' commits). A state further
    /// behind goes in a statement with those near it (<see cref="ByLag"/>).
    /// </summary>
    internal const ulong MaxCoveringLag = 500;

    /// <summary>The <c>xmax</c> of a <c>pg_snapshot</c> text (<c>xmin:xmax:xip,…</c>).</summary>
    internal static ulong Xmax(string snapshot)
    {
        int first = snapshot.IndexOf(':', StringComparison.Ordinal);
        int second = snapshot.IndexOf(':', first + 1);
        return ulong.Parse(snapshot.AsSpan(first + 1, second - first - 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Indexes of <paramref name="snapshots"/> in groups whose <c>xmax</c> lie within
    /// <see cref="MaxCoveringLag"/> of their group's newest: the newest first, then each group from the
    /// newest state left.
    /// </summary>
    internal static List<List<int>> ByLag(IReadOnlyList<string> snapshots)
    {
        var order = Enumerable.Range(0, snapshots.Count).Select(i => (Index: i, Xmax: Xmax(snapshots[i]))).OrderByDescending(p => p.Xmax).ToList();
        var groups = new List<List<int>>();
        ulong newest = 0;
        foreach (var (i, xmax) in order)
        {
            if (groups.Count == 0 || newest - xmax > MaxCoveringLag)
            {
                groups.Add([]);
                newest = xmax;
            }

            groups[^1].Add(i);
        }

        return groups;
    }

    /// <summary>
    /// A snapshot that sees none of what any of <paramref name="snapshots"/> (<c>pg_snapshot</c> text,
    /// <c>xmin:xmax:xip,…</c>) did not see: the least xmax, and every in-progress id below it. A
    /// transaction unseen by one of them began at or after its xmax (so at or after the least) or was in
    /// progress then; either way the delta arms, <c>≥ xmax</c> and <c>= ANY (xip)</c>, read it.
    /// </summary>
    internal static string Covering(IReadOnlyList<string> snapshots)
    {
        if (snapshots.Count == 1)
        {
            return snapshots[0];
        }

        ulong xmin = ulong.MaxValue, xmax = ulong.MaxValue;
        foreach (var text in snapshots)
        {
            var parts = text.Split(':');
            xmin = Math.Min(xmin, ulong.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
            xmax = Math.Min(xmax, ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        var inProgress = new SortedSet<ulong>();
        foreach (var text in snapshots)
        {
            var list = text[(text.LastIndexOf(':') + 1)..];
            foreach (var id in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                ulong xid = ulong.Parse(id, System.Globalization.CultureInfo.InvariantCulture);
                if (xid < xmax)
                {
                    inProgress.Add(xid);
                }
            }
        }

        // pg_snapshot's input wants xmin <= xip < xmax, ascending; every xip is at least its own xmin.
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{xmin}:{xmax}:{string.Join(',', inProgress)}");
    }
}
