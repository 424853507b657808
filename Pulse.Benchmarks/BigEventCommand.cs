using System.Diagnostics;
using System.Globalization;
using Pulse.Configuration;
using Pulse.Storage;

namespace Pulse.Benchmarks;

/// <summary>
/// <c>big-event</c>: what a tick and a cold read cost on battles of 10,000 to 10,000,000 links, before
/// (the full statement of <see cref="ViewModelQuery"/> per tick) and after (<see cref="CountingState"/>
/// with <see cref="CountingRead"/>'s delta, docs/design.md §18), and whether the numbers stay exact.
/// <code>
/// big-event --database-url postgres://… [--rows 10000,100000,1000000,10000000] [--runs 3] [--out FILE] [--plans DIR]
/// </code>
/// Each size gets a fresh event; rounds are interleaved (before, after cold, after tick in each). Exits 1
/// when any check of exactness fails.
/// </summary>
internal static class BigEventCommand
{
    private const string Usage = "usage: big-event --database-url postgres://… [--rows 10000,100000,1000000,10000000] [--runs 3] [--out FILE] [--plans DIR]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? url = Environment.GetEnvironmentVariable("DATABASE_URL");
        int[] sizes = [10_000, 100_000, 1_000_000, 10_000_000];
        int runs = 3;
        string? output = null;
        string? plansDirectory = null;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--database-url": url = value; i++; break;
                case "--rows": sizes = [.. value.Split(',').Select(s => int.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))]; i++; break;
                case "--runs": runs = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--out": output = value; i++; break;
                case "--plans": plansDirectory = value; i++; break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        if (string.IsNullOrEmpty(url) || runs < 1 || sizes.Any(s => s < 1000))
        {
            Console.Error.WriteLine(Usage + " (sizes ≥ 1,000, runs ≥ 1)");
            return 2;
        }

        // A full statement at 10,000,000 links runs for tens of seconds: no command timeout to speak of.
        await using var dataSource = PulseDatabase.Build(DatabaseUrl.ToConnectionString(url, poolSize: 4, commandTimeoutSeconds: 3600));
        await new Migrator(dataSource).MigrateAsync(false, cancellationToken);
        if (plansDirectory is not null)
        {
            Directory.CreateDirectory(plansDirectory);
        }

        Console.WriteLine($"big-event: sizes {string.Join(", ", sizes.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)))}; {runs} rounds each; "
            + $"{Environment.ProcessorCount} processors visible; load {LoadAverage()}");
        var results = new List<BigEventSize>();
        var random = new Random(20261202);
        foreach (int size in sizes)
        {
            Console.WriteLine($"{size:N0} links: generating");
            var watch = Stopwatch.StartNew();
            var bigEvent = await BigEventData.CreateAsync(dataSource, size, Console.Out, cancellationToken);
            double generation = watch.Elapsed.TotalSeconds;
            Console.WriteLine($"  event {bigEvent.Id}: {bigEvent.Entries:N0} entries, {bigEvent.Links:N0} links in {generation:F1} s");

            var rounds = new List<BigEventRound>();
            for (int round = 1; round <= runs; round++)
            {
                string load = LoadAverage();
                var result = await BigEventRounds.RunAsync(dataSource, bigEvent, round, random, cancellationToken);
                rounds.Add(result);
                Console.WriteLine(BigEventReport.RoundLine(size, result, load));
                if (round == 1 || !result.Exact)
                {
                    foreach (var (statement, plan) in result.Plans)
                    {
                        Console.WriteLine($"    {statement}: {plan.ExecutionMs:F2} ms (planning {plan.PlanningMs:F2} ms, JIT {plan.JitMs:F2} ms), {plan.Scans}");
                    }
                }

                if (plansDirectory is not null)
                {
                    foreach (var (statement, plan) in result.Plans)
                    {
                        await File.WriteAllTextAsync(Path.Combine(plansDirectory, $"{size}-{round}-{statement}.json"), plan.Json, cancellationToken);
                    }
                }
            }

            results.Add(new BigEventSize(size, bigEvent.Entries, generation, rounds));
        }

        string table = BigEventReport.Markdown(results);
        Console.WriteLine();
        Console.WriteLine(table);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, table, cancellationToken);
        }

        bool exact = results.All(r => r.Rounds.All(round => round.Exact));
        Console.WriteLine(exact ? "exact: yes, every round" : "exact: NO (see the rounds above)");
        return exact ? 0 : 1;
    }

    // The machine is shared: the 1-minute load average goes with every figure.
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
