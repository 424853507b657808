using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// N subscribers of one event, one notification every <c>--interval</c> seconds (default 1), <c>--duration</c> of them: delivery latency from the POST's
/// send to each subscriber's receipt of the broadcast named <c>tick-&lt;seq&gt;</c>; missing
/// deliveries must be 0. With a database, one row is inserted before each POST so the numbers
/// change (a server broadcasts only changed numbers, docs/design.md §5 <c>version</c>).
/// </summary>
internal sealed class FanoutScenario : IScenario
{
    /// <summary>How long to wait for the last tick's deliveries: a 500 ms window plus a generous fan-out (at least one interval).</summary>
    private static readonly TimeSpan MinimumGrace = TimeSpan.FromSeconds(3);

    public string Name => "fanout";
    public bool NeedsDatabase => false;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        ScenarioStats stats = context.Stats;
        Guid[] keywords = context.Database is { } db ? await db.KeywordIdsAsync(context.EventId, cancellationToken) : [];
        await using ISubscriberGroup group = context.CreateGroup(options.Connections, 0, keepLastBroadcast: false);
        stats.LiveLine = "joining " + options.Connections + " subscribers";
        await group.StartAsync(cancellationToken);
        int joined = group.JoinedSoFar;

        ProcessSample? before = context.SampleServer();
        int ticks = Math.Max(1, options.Duration);
        TimeSpan interval = TimeSpan.FromSeconds(options.Interval);
        TimeSpan grace = interval > MinimumGrace ? interval : MinimumGrace;
        int postFailures = 0;
        long start = Stopwatch.GetTimestamp();
        for (int seq = 1; seq <= ticks; seq++)
        {
            TimeSpan wait = (interval * (seq - 1)) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            if (context.Database is { } database && keywords.Length > 0)
            {
                await database.InsertEntryAsync(keywords[seq % keywords.Length], cancellationToken);
            }

            long sentAt = Stopwatch.GetTimestamp();
            group.AnnounceTick(seq, sentAt);
            HttpStatusCode status = await context.NotifyAsync("tick-" + seq.ToString(CultureInfo.InvariantCulture), cancellationToken);
            if (status != HttpStatusCode.NoContent)
            {
                postFailures++;
                stats.Errors.AddOrUpdate("POST /v1/events answered " + (int)status, 1, (_, n) => n + 1);
            }

            stats.LiveLine = FormattableString.Invariant($"tick {seq}/{ticks} to {joined} subscribers");
        }

        await Task.Delay(grace, cancellationToken);
        ProcessSample? after = context.SampleServer();
        GroupResult result = await group.StopAsync();
        stats.Elapsed = Stopwatch.GetElapsedTime(start) - grace;
        GroupResult.DecodeInto(result.TickLatency, stats.Latency);
        stats.AddOk(result.TickReceipts);
        long expected = (long)ticks * result.Joined;
        long missing = Math.Max(0, expected - result.TickReceipts);
        stats.AddFail(missing, "delivery missing");
        stats.AddFail(postFailures, "notification not accepted");
        stats.AddFail(result.JoinFailed, "join failed");
        foreach (var (error, count) in result.Errors)
        {
            stats.Errors.AddOrUpdate(error, count, (_, n) => n + count);
        }

        stats.SetFigure("subscribers", result.Joined.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("notifications", ticks.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("deliveries expected", expected.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("deliveries missing", missing.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("broadcasts received", result.Broadcasts.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("rows inserted", (context.Database is null ? 0 : ticks).ToString(CultureInfo.InvariantCulture));
        context.AddServerFigures(before, after, result.TickReceipts, "delivery");
        context.WorkerCpuSeconds = options.Workers > 1 ? result.CpuSeconds : 0;
        if (missing > 0)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{missing} of {expected} deliveries missing"));
        }

        if (result.Joined < options.Connections)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{result.Joined} of {options.Connections} subscribers joined"));
        }
    }
}
