using System.Diagnostics;
using System.Globalization;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// J joins spread evenly over S seconds (J = --connections, S = --duration): every join must
/// be answered ok; p99 of join latency; statements PostgreSQL ran during the storm.
/// </summary>
internal sealed class JoinStormScenario : IScenario
{
    public string Name => "join-storm";
    public bool NeedsDatabase => false;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        ScenarioStats stats = context.Stats;
        int joins = options.Connections;
        double rate = joins / (double)Math.Max(1, options.Duration);
        LoadDatabase.StatementReading? before = context.Database is { } db ? await db.ReadStatementsAsync(cancellationToken) : null;
        ProcessSample? serverBefore = context.SampleServer();
        await using ISubscriberGroup group = context.CreateGroup(joins, rate, keepLastBroadcast: false);
        stats.LiveLine = FormattableString.Invariant($"{joins} joins at {rate:F0}/s");
        long start = Stopwatch.GetTimestamp();
        await group.StartAsync(cancellationToken);
        stats.Elapsed = Stopwatch.GetElapsedTime(start);
        ProcessSample? serverAfter = context.SampleServer();

        LoadDatabase.StatementReading? after = null;
        if (context.Database is { } database)
        {
            await Task.Delay(LoadDatabase.StatisticsSettle, cancellationToken);
            after = await database.ReadStatementsAsync(cancellationToken);
        }

        GroupResult result = await group.StopAsync();
        GroupResult.DecodeInto(result.JoinLatency, stats.Latency);
        stats.AddOk(result.Joined);
        stats.AddFail(result.JoinFailed, "join not answered ok");
        foreach (var (error, count) in result.Errors)
        {
            stats.Errors.AddOrUpdate(error, count, (_, n) => n + count);
        }

        stats.SetFigure("joins", joins.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("answered ok", result.Joined.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("storm (s)", FormattableString.Invariant($"{stats.Elapsed.TotalSeconds:F1}"));
        if (before is { } b && after is { } a)
        {
            // The first reading's own statements land after it was taken, so they are in the difference.
            long commits = a.Commits - b.Commits - LoadDatabase.OwnStatementsPerReading;
            stats.SetFigure("transactions committed in PostgreSQL", commits.ToString(CultureInfo.InvariantCulture));
            if (a.StatementCalls is { } callsAfter && b.StatementCalls is { } callsBefore)
            {
                stats.SetFigure("statements (pg_stat_statements)", (callsAfter - callsBefore - LoadDatabase.OwnStatementsPerReading).ToString(CultureInfo.InvariantCulture));
            }
        }

        context.AddServerFigures(serverBefore, serverAfter, result.Joined, "join");
        context.WorkerCpuSeconds = options.Workers > 1 ? result.CpuSeconds : 0;
        if (result.Joined < joins)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{joins - result.Joined} of {joins} joins not answered ok"));
        }
    }
}
