using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// POST at rate R for D seconds on one event while rows are inserted: how many computations a
/// subscriber observes (a coalescing server: at most two a second), and whether the final
/// broadcast's per-query counts equal an independent SQL count.
/// </summary>
internal sealed class FloodScenario : IScenario
{
    /// <summary>Rows per second inserted during the flood: enough to change every window's numbers.</summary>
    private const int InsertsPerSecond = 50;
    /// <summary>Room for a trailing-edge computation (500 ms window) and its broadcast.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2.5);

    public string Name => "flood";
    public bool NeedsDatabase => true;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var database = context.Database!;
        ScenarioStats stats = context.Stats;
        double rate = options.Rate ?? 100;
        Guid[] keywords = await database.KeywordIdsAsync(context.EventId, cancellationToken);
        await using ISubscriberGroup subscriber = context.CreateGroup(1, 0, keepLastBroadcast: true, inProcess: true);
        await subscriber.StartAsync(cancellationToken);
        ProcessSample? before = context.SampleServer();
        long? computationsBefore = await ServerComputationsAsync(context, cancellationToken);
        TimeSpan duration = TimeSpan.FromSeconds(options.Duration);
        long start = Stopwatch.GetTimestamp();
        int inserted = 0;
        Task inserts = LoadSimulation.InjectAsync(InsertsPerSecond, duration, 8, async (i, ct) =>
        {
            await database.InsertEntryAsync(keywords[i % keywords.Length], ct);
            Interlocked.Increment(ref inserted);
        }, cancellationToken);
        Task posts = LoadSimulation.InjectAsync(rate, duration, 256, async (i, ct) =>
        {
            long sentAt = Stopwatch.GetTimestamp();
            try
            {
                HttpStatusCode status = await context.NotifyAsync("flood-" + i.ToString(CultureInfo.InvariantCulture), ct);
                if (status == HttpStatusCode.NoContent)
                {
                    stats.RecordOk(sentAt, Stopwatch.GetTimestamp());
                }
                else
                {
                    stats.RecordFail("POST /v1/events answered " + (int)status);
                }
            }
            catch (HttpRequestException ex)
            {
                stats.RecordFail("POST failed: " + ex.Message);
            }

            stats.LiveLine = FormattableString.Invariant($"{inserted} rows inserted");
        }, cancellationToken);
        await Task.WhenAll(inserts, posts);
        stats.Elapsed = Stopwatch.GetElapsedTime(start);

        // One last notification after the last insert, so the final computation sees every row.
        await context.NotifyAsync("flood-final", cancellationToken);
        await Task.Delay(Settle, cancellationToken);
        ProcessSample? after = context.SampleServer();
        long? computationsAfter = await ServerComputationsAsync(context, cancellationToken);
        GroupResult result = await subscriber.StopAsync();
        SortedDictionary<string, long> expected = await database.CountsAsync(context.EventId, cancellationToken);
        SortedDictionary<string, long> broadcast = ViewModelCounts.Of(result.LastPayload);

        stats.SetFigure("POSTs", (stats.Ok + stats.Fail).ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("rows inserted", inserted.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("computations observed", result.Broadcasts.ToString(CultureInfo.InvariantCulture));
        double seconds = stats.Elapsed.TotalSeconds + Settle.TotalSeconds;
        stats.SetFigure("computations per second", FormattableString.Invariant($"{result.Broadcasts / seconds:F2}"));
        if (computationsBefore is { } c0 && computationsAfter is { } c1)
        {
            // The server's own count includes computations whose numbers did not change (no broadcast).
            stats.SetFigure("computations (server /metrics)", (c1 - c0).ToString(CultureInfo.InvariantCulture));
            stats.SetFigure("server computations per second", FormattableString.Invariant($"{(c1 - c0) / seconds:F2}"));
        }

        stats.SetFigure("final version", result.LastVersion.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("final counts (broadcast)", ViewModelCounts.Show(broadcast));
        stats.SetFigure("final counts (SQL)", ViewModelCounts.Show(expected));
        bool exact = broadcast.Count == expected.Count && broadcast.All(p => expected.GetValueOrDefault(p.Key, -1) == p.Value);
        stats.SetFigure("final numbers exact", exact ? "yes" : "NO");
        context.AddServerFigures(before, after, stats.Ok, "POST");
        if (!exact)
        {
            context.CheckFailures.Add("final broadcast " + ViewModelCounts.Show(broadcast) + " differs from SQL " + ViewModelCounts.Show(expected));
        }
    }

    /// <summary><c>pulse_computations_total</c> from the server's <c>/metrics</c> (docs/design.md §6), or null when it has none.</summary>
    private static async Task<long?> ServerComputationsAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await context.Http.GetAsync(new Uri(context.Target.BaseUri, "metrics"), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            foreach (string line in text.Split('\n'))
            {
                if (line.StartsWith("pulse_computations_total ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan("pulse_computations_total ".Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                {
                    return value;
                }
            }

            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
