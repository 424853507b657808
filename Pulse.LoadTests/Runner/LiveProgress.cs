using System.Diagnostics;
using Spectre.Console;

namespace Pulse.LoadTests.Runner;

/// <summary>
/// Shows a scenario's counters while it runs: a Spectre.Console live line on a terminal, a
/// plain line every two seconds when stdout is redirected or <c>CI</c> is set.
/// </summary>
internal static class LiveProgress
{
    public static bool IsPlain =>
        Console.IsOutputRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static async Task RunAsync(string scenario, ScenarioStats stats, Task work)
    {
        long start = Stopwatch.GetTimestamp();
        if (IsPlain)
        {
            while (await Task.WhenAny(work, Task.Delay(2000)) != work)
            {
                Console.WriteLine(Line(scenario, stats, start, markup: false));
            }
        }
        else
        {
            await AnsiConsole.Live(new Markup(Line(scenario, stats, start, markup: true)))
                .AutoClear(false)
                .StartAsync(async context =>
                {
                    while (await Task.WhenAny(work, Task.Delay(250)) != work)
                    {
                        context.UpdateTarget(new Markup(Line(scenario, stats, start, markup: true)));
                    }

                    context.UpdateTarget(new Markup(Line(scenario, stats, start, markup: true)));
                });
        }

        await work;
    }

    private static string Line(string scenario, ScenarioStats stats, long start, bool markup)
    {
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        string text = FormattableString.Invariant(
            $"{scenario} {seconds,6:F1}s  ok {stats.Ok,8}  fail {stats.Fail,6}  {stats.LiveLine}");
        return markup ? "[bold]" + Markup.Escape(text) + "[/]" : text;
    }
}
