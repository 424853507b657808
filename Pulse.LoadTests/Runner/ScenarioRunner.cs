using Pulse.LoadTests.Cli;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Scenarios;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Runner;

/// <summary>Runs one named scenario end to end: set-up, live progress, final table, reports.</summary>
internal static class ScenarioRunner
{
    public static async Task<int> RunAsync(LoadOptions options, Target target)
    {
        IScenario? scenario = Scenarios.Scenarios.Find(options.Scenario);
        if (scenario is null)
        {
            return Usage("unknown --scenario '" + options.Scenario + "'; one of: " + string.Join(", ", Scenarios.Scenarios.All.Select(s => s.Name)));
        }

        if (options.Connections < 1 || options.Duration < 1 || options.Workers < 1 || options.Rate is <= 0 || options.Interval is <= 0 or > 600)
        {
            return Usage("--connections, --duration, --workers, --rate and --interval must be positive (--interval at most 600)");
        }

        if (scenario.NeedsDatabase && options.DatabaseUrl is null)
        {
            return Usage("--scenario " + scenario.Name + " needs --database-url (it inserts rows and counts them)");
        }

        await using LoadDatabase? database = options.DatabaseUrl is { } url ? LoadDatabase.Open(url) : null;
        Guid eventId;
        if (options.EventId is { } given)
        {
            if (!Guid.TryParse(given, out eventId))
            {
                return Usage("--event must be a uuid");
            }
        }
        else if (database is not null)
        {
            eventId = await database.CreateEventAsync(CancellationToken.None);
            Console.WriteLine("created event " + eventId.ToString("D"));
        }
        else
        {
            return Usage("give --event ID, or --database-url to create one");
        }

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var context = new ScenarioContext(options, target, database, eventId, http);

        // Bounded in time: the load, a minute of joining per 3,000 sockets, five minutes of slack, and big-event's rows to make and delete.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds((options.Duration * Math.Max(1, options.Interval)) + 300 + (options.Connections / 50) + options.SlackSeconds));
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        // Touch /proc and System.Diagnostics.Process now: once sockets have taken every file
        // descriptor (EMFILE), even loading an assembly fails.
        _ = ProcessSample.SelfCpu();
        _ = context.SampleServer();
        DateTimeOffset startedAt = DateTimeOffset.UtcNow;
        Task work = scenario.RunAsync(context, cancel.Token);
        try
        {
            await LiveProgress.RunAsync(scenario.Name, context.Stats, work);
        }
        catch (Exception ex)
        {
            context.CheckFailures.Add("scenario aborted: " + ex.GetType().Name + ": " + ex.Message);
        }

        ScenarioStats stats = context.Stats;
        double elapsed = Math.Max(stats.Elapsed.TotalSeconds, 1e-6);
        var result = new ScenarioResult
        {
            Scenario = scenario.Name,
            Target = target.BaseUri.ToString(),
            StartedAt = startedAt,
            ElapsedSeconds = Math.Round(stats.Elapsed.TotalSeconds, 3),
            RequestsPerSecond = Math.Round((stats.Ok + stats.Fail) / elapsed, 1),
            Ok = stats.Ok,
            Fail = stats.Fail,
            LatencyMs = ResultReport.Summarize(stats.Latency),
            Figures = stats.FigureOrder.Select(name => new Figure(name, stats.Figures[name])).ToList(),
            Errors = new Dictionary<string, int>(stats.Errors),
            ToolCpuSeconds = Math.Round(ProcessSample.SelfCpu().TotalSeconds + context.WorkerCpuSeconds, 2),
            CheckFailures = context.CheckFailures,
        };
        ResultReport.Print(result);
        Console.WriteLine("report: " + ResultReport.Write(result, options.Results));
        return result.Passed ? 0 : 1;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine("pulse-load: " + message);
        return 2;
    }
}
