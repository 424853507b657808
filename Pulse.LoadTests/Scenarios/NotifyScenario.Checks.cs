using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;

namespace Pulse.LoadTests.Scenarios;

internal sealed partial class NotifyScenario
{
    /// <summary>How long every subscriber's last broadcast may take to reach the SQL count once writes stop.</summary>
    private static readonly TimeSpan ExactWait = TimeSpan.FromSeconds(10);
    private const int TopStatements = 5;
    private const int StatementTextLength = 80;

    /// <summary>The server's statements and transactions between the two readings, per second of load and per POST.</summary>
    private static void AddStatementFigures(
        ScenarioContext context, LoadDatabase.ServerStatements before, LoadDatabase.ServerStatements after, long ownCommits, double seconds, long posts)
    {
        ScenarioStats stats = context.Stats;
        // The tool's own transactions: every inserted row is one, and so is each statement of a reading.
        int ownPerReading = before.Calls is null ? LoadDatabase.OwnStatementsPerServerReading - 1 : LoadDatabase.OwnStatementsPerServerReading;
        long commits = after.Commits - before.Commits - ownCommits - ownPerReading;
        stats.SetFigure("server transactions (xact_commit, the tool's own left out)", commits.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("server transactions/s", FormattableString.Invariant($"{commits / seconds:F1}"));
        if (before.TotalCalls is not { } callsBefore || after.TotalCalls is not { } callsAfter)
        {
            stats.SetFigure("server statements (pg_stat_statements)", "n/a");
            stats.SetFigure("server statements/s", "n/a");
            return;
        }

        long calls = callsAfter - callsBefore;
        stats.SetFigure("server statements (pg_stat_statements)", calls.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("server statements/s", FormattableString.Invariant($"{calls / seconds:F1}"));
        if (posts > 0)
        {
            stats.SetFigure("server statements per POST", FormattableString.Invariant($"{calls / (double)posts:F3}"));
        }

        int rank = 0;
        foreach (var (count, query) in LoadDatabase.TopStatements(before, after, TopStatements))
        {
            string text = Regex.Replace(query, @"\s+", " ").Trim();
            if (text.Length > StatementTextLength)
            {
                text = text[..StatementTextLength];
            }

            stats.SetFigure(FormattableString.Invariant($"top statement {++rank} (calls)"), FormattableString.Invariant($"{count}: {text}"));
        }
    }

    /// <summary>
    /// Writes and POSTs have stopped: one last POST per event (so a computation follows its last row), then
    /// polls until every subscriber's last broadcast equals the SQL count of its event (docs/design.md §5),
    /// for at most <see cref="ExactWait"/>.
    /// </summary>
    private static async Task CheckExactAsync(
        ScenarioContext context, Poster poster, NotifySubscribers subscribers, Guid[] events, CancellationToken cancellationToken)
    {
        ScenarioStats stats = context.Stats;
        int finalRefused = 0;
        foreach (Guid id in events)
        {
            if (await poster.PostAsync(id, "notify-final", cancellationToken) != HttpStatusCode.NoContent)
            {
                finalRefused++;
            }
        }

        if (finalRefused > 0)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{finalRefused} final POSTs not answered 204"));
        }

        var expected = new SortedDictionary<string, long>[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            expected[i] = await context.Database!.CountsAsync(events[i], cancellationToken);
        }

        long start = Stopwatch.GetTimestamp();
        List<int> wrong;
        do
        {
            await Task.Delay(100, cancellationToken);
            wrong = Enumerable.Range(0, events.Length).Where(i => !ViewModelCounts.Same(ViewModelCounts.Of(subscribers.Newest(i).Payload), expected[i])).ToList();
        }
        while (wrong.Count > 0 && Stopwatch.GetElapsedTime(start) < ExactWait);

        stats.SetFigure("subscribers exact", FormattableString.Invariant($"{events.Length - wrong.Count} of {events.Length}"));
        stats.SetFigure("exact after (s)", wrong.Count == 0 ? FormattableString.Invariant($"{Stopwatch.GetElapsedTime(start).TotalSeconds:F1}") : "never");
        foreach (int i in wrong.Take(3))
        {
            context.CheckFailures.Add(FormattableString.Invariant(
                $"event {events[i]:D}: last broadcast {ViewModelCounts.Show(ViewModelCounts.Of(subscribers.Newest(i).Payload))} differs from SQL {ViewModelCounts.Show(expected[i])}"));
        }

        if (wrong.Count > 3)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"… and {wrong.Count - 3} more events whose last broadcast differs from SQL"));
        }
    }
}
