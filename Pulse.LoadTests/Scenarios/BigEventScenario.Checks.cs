using System.Globalization;
using System.Text.Json;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;

namespace Pulse.LoadTests.Scenarios;

/// <summary>A view model (docs/design.md §5) as the server sent it: its version and its numbers (zero points left out).</summary>
internal sealed record ServerView(long Version, BigEventNumbers Numbers)
{
    public static ServerView Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var points = new Dictionary<(string, DateTime), long>();
        foreach (JsonElement query in root.GetProperty("queries").EnumerateArray())
        {
            string side = query.GetProperty("query").GetString()!;
            counts[side] = query.GetProperty("count").GetInt64();
            foreach (JsonElement point in query.GetProperty("time_series").EnumerateArray())
            {
                long n = point.GetProperty("count").GetInt64();
                if (n != 0)
                {
                    DateTime minute = DateTime.Parse(point.GetProperty("date").GetString()!, CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
                    points[(side, minute)] = n;
                }
            }
        }

        return new ServerView(root.GetProperty("version").GetInt64(), new BigEventNumbers(root.GetProperty("total").GetInt64(), counts, points));
    }
}

internal sealed partial class BigEventScenario
{
    private const string Computations = "pulse_computation_seconds";

    /// <summary>
    /// The final GET against the tool's reference (total, every side, every minute), the
    /// subscribers' newest broadcast against the final GET, and every subscriber on that newest version.
    /// </summary>
    private static void CheckNumbers(ScenarioContext context, ServerView? final, BigEventNumbers reference, GroupResult result)
    {
        ScenarioStats stats = context.Stats;
        stats.SetFigure("reference (SQL)", Show(reference));
        if (final is null)
        {
            context.CheckFailures.Add("no final GET answered 200");
            return;
        }

        stats.SetFigure("final GET", Show(final.Numbers) + FormattableString.Invariant($" (version {final.Version})"));
        List<string> wrong = Differences(final.Numbers, reference);
        stats.SetFigure("final numbers exact", wrong.Count == 0 ? "yes" : FormattableString.Invariant($"NO ({wrong.Count} differences)"));
        if (wrong.Count > 0)
        {
            context.CheckFailures.Add("final GET differs from the reference: " + string.Join("; ", wrong.Take(5)));
        }

        if (result.LastPayload is null)
        {
            context.CheckFailures.Add("the subscribers received no broadcast");
            return;
        }

        List<string> apart = Differences(ServerView.Parse(result.LastPayload).Numbers, final.Numbers);
        bool allNewest = result.MinLastVersion == result.LastVersion;
        stats.SetFigure("subscribers' last broadcast", FormattableString.Invariant(
            $"versions {result.MinLastVersion}..{result.LastVersion}, {(apart.Count == 0 ? "equal to" : "DIFFERENT from")} the final GET"));
        if (!allNewest)
        {
            context.CheckFailures.Add(FormattableString.Invariant(
                $"a subscriber's last broadcast is version {result.MinLastVersion}, another's {result.LastVersion}"));
        }

        if (apart.Count > 0)
        {
            context.CheckFailures.Add("the last broadcast differs from the final GET: " + string.Join("; ", apart.Take(5)));
        }
    }

    /// <summary>Every difference between two sets of numbers, as "what: actual ≠ expected".</summary>
    private static List<string> Differences(BigEventNumbers actual, BigEventNumbers expected)
    {
        var wrong = new List<string>();
        if (actual.Total != expected.Total)
        {
            wrong.Add(FormattableString.Invariant($"total {actual.Total} ≠ {expected.Total}"));
        }

        foreach (string side in actual.Counts.Keys.Union(expected.Counts.Keys))
        {
            if (actual.Counts.GetValueOrDefault(side, -1) != expected.Counts.GetValueOrDefault(side, -1))
            {
                wrong.Add(FormattableString.Invariant($"{side} {actual.Counts.GetValueOrDefault(side, -1)} ≠ {expected.Counts.GetValueOrDefault(side, -1)}"));
            }
        }

        foreach (var key in actual.Points.Keys.Union(expected.Points.Keys).OrderBy(k => k.Minute))
        {
            long a = actual.Points.GetValueOrDefault(key);
            long e = expected.Points.GetValueOrDefault(key);
            if (a != e)
            {
                wrong.Add(FormattableString.Invariant($"{key.Side} at {key.Minute:HH:mm} {a} ≠ {e}"));
            }
        }

        return wrong;
    }

    private static string Show(BigEventNumbers numbers) =>
        FormattableString.Invariant($"total={numbers.Total}, ")
        + string.Join(", ", numbers.Counts.Select(p => FormattableString.Invariant($"{p.Key}={p.Value}")))
        + FormattableString.Invariant($", {numbers.Points.Count} non-zero points");

    /// <summary>Computations of the write phase from the <c>pulse_computation_seconds</c> histogram, and database time per tick.</summary>
    private static void ReportComputations(ScenarioStats stats, Dictionary<string, double>? before, Dictionary<string, double>? after,
        StatementTotals? statementsBefore, StatementTotals? statementsAfter)
    {
        double computations = 0;
        if (before is not null && after is not null && after.TryGetValue(Computations + "_count", out double countAfter))
        {
            computations = countAfter - before.GetValueOrDefault(Computations + "_count");
            double sum = after.GetValueOrDefault(Computations + "_sum") - before.GetValueOrDefault(Computations + "_sum");
            stats.SetFigure("computations (write phase)", computations.ToString("F0", CultureInfo.InvariantCulture));
            stats.SetFigure("computation mean (ms)", computations > 0 ? Ms(sum * 1000 / computations) : "n/a");
            stats.SetFigure("computation max (ms, bucket bound)", computations > 0 ? MaxBound(before, after, computations) : "n/a");
        }
        else
        {
            stats.SetFigure("computations (write phase)", "n/a");
        }

        if (statementsBefore is not { } b || statementsAfter is not { } a)
        {
            stats.SetFigure("database time per tick", "n/a (no pg_stat_statements)");
            return;
        }

        StatementTotals d = a - b;
        stats.SetFigure("'pulse: counting delta' calls / total (ms) / per call (ms)",
            d.DeltaCalls > 0 ? FormattableString.Invariant($"{d.DeltaCalls} / {d.DeltaMs:F1} / {d.DeltaMs / d.DeltaCalls:F3}") : "n/a (no such statement)");
        stats.SetFigure("'pulse: counting full' calls / total (ms)",
            d.FullCalls > 0 ? FormattableString.Invariant($"{d.FullCalls} / {d.FullMs:F1}") : "0");
        stats.SetFigure("uniq_entry_keywords statements: calls / total (ms)", FormattableString.Invariant($"{d.LinkCalls} / {d.LinkMs:F1}"));
        stats.SetFigure("database time per computation (ms)", computations > 0 ? Ms(d.LinkMs / computations) : "n/a");
    }

    /// <summary>The mean computation time between two readings of <c>/metrics</c> (zero when unknown).</summary>
    private static TimeSpan LongestComputation(Dictionary<string, double>? before, Dictionary<string, double>? after)
    {
        if (before is null || after is null)
        {
            return TimeSpan.Zero;
        }

        double count = after.GetValueOrDefault(Computations + "_count") - before.GetValueOrDefault(Computations + "_count");
        double sum = after.GetValueOrDefault(Computations + "_sum") - before.GetValueOrDefault(Computations + "_sum");
        return count > 0 ? TimeSpan.FromSeconds(sum / count) : TimeSpan.Zero;
    }

    /// <summary>The upper bound of the highest bucket that gained a computation: the maximum, to the histogram's resolution.</summary>
    private static string MaxBound(Dictionary<string, double> before, Dictionary<string, double> after, double computations)
    {
        const string prefix = Computations + "_bucket{le=\"";
        var bounds = after.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => (Key: k, Le: k[prefix.Length..^2]))
            .Where(b => b.Le != "+Inf")
            .Select(b => (b.Key, Bound: double.Parse(b.Le, CultureInfo.InvariantCulture)))
            .OrderBy(b => b.Bound)
            .ToList();
        foreach (var (key, bound) in bounds)
        {
            if (after[key] - before.GetValueOrDefault(key) >= computations)
            {
                return "≤ " + Ms(bound * 1000);
            }
        }

        return bounds.Count == 0 ? "n/a" : "> " + Ms(bounds[^1].Bound * 1000);
    }

    /// <summary>Bytes per counted entry from the gauges <c>pulse_counting_bytes</c> and <c>pulse_counting_entries</c>; "n/a" without them.</summary>
    private static void ReportMemory(ScenarioStats stats, Dictionary<string, double>? metrics)
    {
        double? bytes = Sum(metrics, "pulse_counting_bytes");
        double? entries = Sum(metrics, "pulse_counting_entries");
        stats.SetFigure("counting memory (bytes / entries)", bytes is { } b && entries is { } e
            ? FormattableString.Invariant($"{b:F0} / {e:F0} = {(e > 0 ? (b / e).ToString("F1", CultureInfo.InvariantCulture) : "n/a")} per entry")
            : "n/a (no pulse_counting_bytes / pulse_counting_entries)");
    }

    /// <summary>The sum of a metric's series (with or without labels), or null when the server has none.</summary>
    private static double? Sum(Dictionary<string, double>? metrics, string name)
    {
        if (metrics is null)
        {
            return null;
        }

        var series = metrics.Where(p => p.Key == name || p.Key.StartsWith(name + "{", StringComparison.Ordinal)).ToList();
        return series.Count == 0 ? null : series.Sum(p => p.Value);
    }

    /// <summary>The server's <c>/metrics</c> as series → value (Prometheus text format), or null when it does not answer.</summary>
    private static async Task<Dictionary<string, double>?> ReadMetricsAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await context.Http.GetAsync(new Uri(context.Target.BaseUri, "metrics"), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string line in (await response.Content.ReadAsStringAsync(cancellationToken)).Split('\n'))
            {
                int space = line.LastIndexOf(' ');
                if (line.StartsWith('#') || space <= 0)
                {
                    continue;
                }

                if (double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    metrics[line[..space]] = value;
                }
            }

            return metrics;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
