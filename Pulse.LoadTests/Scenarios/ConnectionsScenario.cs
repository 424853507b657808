using System.Diagnostics;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>Hold N joined sockets for D seconds: connect rate, join latency, server RSS per socket.</summary>
internal sealed class ConnectionsScenario : IScenario
{
    public string Name => "connections";
    public bool NeedsDatabase => false;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        ScenarioStats stats = context.Stats;
        ProcessSample? before = context.SampleServer();
        await using ISubscriberGroup group = context.CreateGroup(options.Connections, 0, keepLastBroadcast: false);
        stats.LiveLine = "connecting " + options.Connections + " sockets";
        long start = Stopwatch.GetTimestamp();
        await group.StartAsync(cancellationToken);
        double connectSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        ProcessSample? joinedSample = context.SampleServer();

        // Hold: the sockets stay joined and idle (heartbeats every 25 s) for the duration.
        long holdStart = Stopwatch.GetTimestamp();
        for (int second = 0; second < options.Duration; second++)
        {
            stats.LiveLine = FormattableString.Invariant($"holding {group.JoinedSoFar} joined sockets, {second}/{options.Duration} s");
            await Task.Delay(1000, cancellationToken);
        }

        ProcessSample? after = context.SampleServer();
        GroupResult result = await group.StopAsync();
        stats.Elapsed = TimeSpan.FromSeconds(connectSeconds);
        GroupResult.DecodeInto(result.JoinLatency, stats.Latency);
        stats.AddOk(result.Joined);
        stats.AddFail(result.JoinFailed, "join failed");
        stats.AddFail(result.Dropped, "socket dropped while held");
        foreach (var (error, count) in result.Errors)
        {
            stats.Errors.AddOrUpdate(error, count, (_, n) => n + count);
        }

        stats.SetFigure("sockets joined", result.Joined.ToString(System.Globalization.CultureInfo.InvariantCulture));
        stats.SetFigure("connect+join rate (/s)", FormattableString.Invariant($"{result.Joined / Math.Max(connectSeconds, 1e-6):F0}"));
        stats.SetFigure("held (s)", FormattableString.Invariant($"{Stopwatch.GetElapsedTime(holdStart).TotalSeconds:F1}"));
        stats.SetFigure("dropped while held", result.Dropped.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (before is { } b && joinedSample is { } j && result.Joined > 0)
        {
            stats.SetFigure("server RSS per socket (KiB)", FormattableString.Invariant($"{(j.RssBytes - b.RssBytes) / 1024.0 / result.Joined:F2}"));
        }

        context.AddServerFigures(before, after, result.Joined, "socket");
        context.WorkerCpuSeconds = options.Workers > 1 ? result.CpuSeconds : 0;
        if (result.LimitMessage is { } limit)
        {
            context.CheckFailures.Add("stopped by a limit: " + limit);
        }

        if (result.Joined < options.Connections)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{result.Joined} of {options.Connections} sockets joined"));
        }
    }
}
