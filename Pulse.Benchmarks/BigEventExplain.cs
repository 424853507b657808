using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Pulse.Benchmarks;

/// <summary>
/// What PostgreSQL reported for one statement under <c>EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)</c>: its
/// execution and planning time, the rows its top node returned, and the scans of its plan (node type,
/// index, rows, heap fetches), to check which index a statement walks.
/// </summary>
internal sealed record Explained(double ExecutionMs, double PlanningMs, long Rows, string Scans, string Json)
{
    /// <summary>Milliseconds of JIT compilation inside <see cref="ExecutionMs"/> (0 when the statement was not compiled).</summary>
    public double JitMs { get; init; }
}

/// <summary>Runs a Pulse statement under EXPLAIN ANALYZE with the parameters Pulse gives it.</summary>
internal static class BigEventExplain
{
    /// <summary>
    /// Explains <paramref name="sql"/> with $1 = <paramref name="eventId"/> and, when given, $2 =
    /// <paramref name="second"/> (a timestamptz for the view-model statement, the snapshot's text for the delta);
    /// with <paramref name="jitOff"/>, in a transaction that sets <c>jit = off</c> for itself.
    /// </summary>
    public static async Task<Explained> RunAsync(NpgsqlDataSource dataSource, string sql, Guid eventId, NpgsqlParameter? second, CancellationToken cancellationToken, bool jitOff = false, NpgsqlParameter? third = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (jitOff)
        {
            await using var set = new NpgsqlCommand("SET LOCAL jit = off", connection, transaction);
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)\n" + sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = eventId });
        if (second is not null)
        {
            command.Parameters.Add(second);
        }

        if (third is not null)
        {
            command.Parameters.Add(third);
        }

        string json = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement[0];
        var plan = root.GetProperty("Plan");
        var scans = new StringBuilder();
        Describe(plan, scans);
        return new Explained(
            root.GetProperty("Execution Time").GetDouble(),
            root.GetProperty("Planning Time").GetDouble(),
            plan.GetProperty("Actual Rows").GetInt64(),
            scans.ToString(),
            json)
        {
            JitMs = root.TryGetProperty("JIT", out var jit) ? jit.GetProperty("Timing").GetProperty("Total").GetDouble() : 0,
        };
    }

    /// <summary>The snapshot's in-progress transactions as the delta's $3 (as Pulse passes them).</summary>
    public static NpgsqlParameter InProgress(string snapshot) =>
        new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = Pulse.Storage.CountingRead.InProgress(snapshot) };

    /// <summary>The snapshot text as the delta's $2.</summary>
    public static NpgsqlParameter Snapshot(string snapshot) =>
        new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = snapshot };

    // Every scan of the tree, depth first: "Index Only Scan uniq_entry_keywords_keyword_created_idx
    // (rows 3×1,000, heap fetches 0)"; loops multiply the rows per loop.
    private static void Describe(JsonElement node, StringBuilder scans)
    {
        string type = node.GetProperty("Node Type").GetString()!;
        if (type.Contains("Scan", StringComparison.Ordinal))
        {
            var line = new StringBuilder(type);
            if (node.TryGetProperty("Index Name", out var index))
            {
                line.Append(' ').Append(index.GetString());
            }
            else if (node.TryGetProperty("Relation Name", out var relation))
            {
                line.Append(" on ").Append(relation.GetString());
            }

            long loops = node.TryGetProperty("Actual Loops", out var l) ? l.GetInt64() : 1;
            line.Append(CultureInfo.InvariantCulture, $" (rows {node.GetProperty("Actual Rows").GetInt64():N0}");
            if (loops != 1)
            {
                line.Append(CultureInfo.InvariantCulture, $" × {loops:N0} loops");
            }

            if (node.TryGetProperty("Heap Fetches", out var fetches))
            {
                line.Append(CultureInfo.InvariantCulture, $", heap fetches {fetches.GetInt64():N0}");
            }

            line.Append(')');
            if (scans.Length > 0)
            {
                scans.Append("; ");
            }

            scans.Append(line);
        }

        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                Describe(child, scans);
            }
        }
    }
}
