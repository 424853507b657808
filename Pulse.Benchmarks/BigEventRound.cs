using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Pulse.Storage;

namespace Pulse.Benchmarks;

/// <summary>
/// The figures of one round on one big event (milliseconds): the old full statement (database time from
/// EXPLAIN ANALYZE, wall time of <see cref="ViewModelQuery.ComputeAsync(NpgsqlDataSource, Guid, DateTime, CancellationToken)"/>);
/// the new path's cold full read and its tick (header + full, header + delta under EXPLAIN ANALYZE; wall
/// time of <see cref="CountingRead.ReadAsync"/>); a verification's wall time; the state's memory; whether
/// every exactness check held (and, when not, which failed).
/// </summary>
internal sealed record BigEventRound(
    int Round,
    double BeforeDbMs,
    double BeforeWallMs,
    double ColdDbMs,
    double ColdWallMs,
    double TickDbMs,
    double TickWallMs,
    double TickWithJitDbMs,
    double TickPlanningMs,
    double VerifyWallMs,
    long Records,
    double BytesPerRecord,
    long DeltaRows,
    bool Exact,
    string Failures)
{
    /// <summary>The plans of this round's statements, for the record.</summary>
    public required IReadOnlyList<(string Statement, Explained Plan)> Plans { get; init; }
}

/// <summary>Measures one round: BEFORE, AFTER cold, a tick of 100 links, AFTER tick, the checks, a verification.</summary>
internal static class BigEventRounds
{
    // Independent of Pulse's statements and of its state: distinct entries per side and over all sides in the window.
    private const string CountsSql = """
        SELECT k.query, count(DISTINCT l.uniq_entry_id)::int
        FROM events e
        JOIN keywords k ON k.event_id = e.id
        JOIN uniq_entry_keywords l ON l.keyword_id = k.id AND l.created_at >= e.start_at AND l.created_at < e.end_at
        WHERE e.id = $1
        GROUP BY GROUPING SETS ((k.query), ())
        """;

    public static async Task<BigEventRound> RunAsync(NpgsqlDataSource dataSource, BigEvent bigEvent, int round, Random random, CancellationToken cancellationToken)
    {
        var id = bigEvent.Id;
        var failures = new List<string>();
        var plans = new List<(string, Explained)>();

        // BEFORE: the old per-tick full statement (a tick was a cold computation).
        var now = BigEventData.Microseconds(DateTime.UtcNow);
        var before = await BigEventExplain.RunAsync(dataSource, ViewModelQuery.Sql, id, BigEventData.Timestamp(now), cancellationToken);
        plans.Add(("ViewModelQuery.Sql", before));
        long started = Stopwatch.GetTimestamp();
        var beforeModel = await ViewModelQuery.ComputeAsync(dataSource, id, now, cancellationToken);
        double beforeWall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        // AFTER, cold: a new state from every link (the previous round's state collected first, as a
        // process that holds no state for the event would start).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        started = Stopwatch.GetTimestamp();
        var cold = await CountingRead.ReadAsync(dataSource, id, state: null, verify: false, cancellationToken)
            ?? throw new InvalidOperationException($"event {id} not found");
        double coldWall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var state = cold.State;
        if (!state.ToViewModel(id, now).SameAs(beforeModel))
        {
            failures.Add("cold state ≠ full statement");
        }

        // As Pulse runs them: in a transaction with jit off (CountingRead.NoJitSql).
        var header = await BigEventExplain.RunAsync(dataSource, CountingRead.HeaderSql, id, null, cancellationToken, jitOff: true);
        var full = await BigEventExplain.RunAsync(dataSource, CountingRead.FullSql, id, null, cancellationToken, jitOff: true);
        plans.Add(("CountingRead.HeaderSql", header));
        plans.Add(("CountingRead.FullSql", full));

        // AFTER, tick: 100 links committed, then the delta under the state's snapshot, then the real tick.
        // The writers' clock stays inside the window when a long run outlasts its last 10 minutes.
        var at = BigEventData.Microseconds(DateTime.UtcNow < bigEvent.EndAt.AddSeconds(-1) ? DateTime.UtcNow : bigEvent.EndAt.AddSeconds(-1));
        await BigEventData.InsertTickAsync(dataSource, bigEvent, round, at, random, cancellationToken);
        var tickHeader = await BigEventExplain.RunAsync(dataSource, CountingRead.HeaderSql, id, null, cancellationToken, jitOff: true);
        var delta = await BigEventExplain.RunAsync(
            dataSource, CountingRead.DeltaSql, id, BigEventExplain.Snapshot(state.Snapshot), cancellationToken, jitOff: true, BigEventExplain.InProgress(state.Snapshot));
        plans.Add(("CountingRead.DeltaSql", delta));

        // What JIT would add, were it left on (PostgreSQL's default).
        var withJit = await BigEventExplain.RunAsync(
            dataSource, CountingRead.DeltaSql, id, BigEventExplain.Snapshot(state.Snapshot), cancellationToken, jitOff: false, BigEventExplain.InProgress(state.Snapshot));
        plans.Add(("CountingRead.DeltaSql, jit on", withJit));

        started = Stopwatch.GetTimestamp();
        var tick = await CountingRead.ReadAsync(dataSource, id, state, verify: false, cancellationToken)
            ?? throw new InvalidOperationException($"event {id} not found");
        double tickWall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (tick.Full)
        {
            failures.Add("the tick read in full");
        }

        state = tick.State;
        if (delta.Rows != BigEventData.TickLinks)
        {
            failures.Add($"delta read {delta.Rows} links, not {BigEventData.TickLinks}");
        }

        // Exactness: the state against the full statement at the same now, and against our own counts.
        var modelNow = BigEventData.Microseconds(DateTime.UtcNow);
        var model = state.ToViewModel(id, modelNow);
        if (!model.SameAs(await ViewModelQuery.ComputeAsync(dataSource, id, modelNow, cancellationToken)))
        {
            failures.Add("tick state ≠ full statement");
        }

        await CheckCountsAsync(dataSource, id, model, failures, cancellationToken);
        int expectedTotal = bigEvent.Entries + (BigEventData.TickEntries * round);
        if (model.Total != expectedTotal)
        {
            failures.Add($"total {model.Total:N0}, generated {expectedTotal:N0}");
        }

        long records = state.Records;
        double bytesPerRecord = records == 0 ? 0 : (double)state.Bytes / records;

        started = Stopwatch.GetTimestamp();
        var verified = await CountingRead.ReadAsync(dataSource, id, state, verify: true, cancellationToken)
            ?? throw new InvalidOperationException($"event {id} not found");
        double verifyWall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (verified.Drift != 0)
        {
            failures.Add($"verification drift {verified.Drift}");
        }

        return new BigEventRound(
            round,
            before.ExecutionMs,
            beforeWall,
            header.ExecutionMs + full.ExecutionMs,
            coldWall,
            tickHeader.ExecutionMs + delta.ExecutionMs,
            tickWall,
            tickHeader.ExecutionMs + withJit.ExecutionMs,
            tickHeader.ExecutionMs + delta.PlanningMs + tickHeader.PlanningMs,
            verifyWall,
            records,
            bytesPerRecord,
            delta.Rows,
            failures.Count == 0,
            string.Join("; ", failures))
        {
            Plans = plans,
        };
    }

    private static async Task CheckCountsAsync(NpgsqlDataSource dataSource, Guid id, ViewModel model, List<string> failures, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(CountsSql, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = id });
        var sides = new Dictionary<string, int>(StringComparer.Ordinal);
        int? total = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.IsDBNull(0))
                {
                    total = reader.GetInt32(1);
                }
                else
                {
                    sides[reader.GetString(0)] = reader.GetInt32(1);
                }
            }
        }

        if (total != model.Total)
        {
            failures.Add($"total {model.Total:N0}, SQL {total:N0}");
        }

        if (sides.Count != model.Queries.Count)
        {
            failures.Add($"{model.Queries.Count} sides, SQL {sides.Count}");
        }

        foreach (var side in model.Queries)
        {
            if (!sides.TryGetValue(side.Query, out int count) || count != side.Count)
            {
                failures.Add($"{side.Query} {side.Count:N0}, SQL {count:N0}");
            }
        }
    }
}
