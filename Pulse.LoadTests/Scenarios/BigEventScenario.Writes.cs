using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Data;

namespace Pulse.LoadTests.Scenarios;

internal sealed partial class BigEventScenario
{
    /// <summary>200 rows a second: 20 rows every 100 ms, each batch one transaction and one POST.</summary>
    private const int RowsPerBatch = 20;
    private static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(100);
    /// <summary>How long the final numbers may take to settle after the last POST, beyond the computations themselves.</summary>
    private static readonly TimeSpan SettleBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(500);

    /// <summary>What the write phase wrote.</summary>
    private readonly record struct WriteCounts(int Batches, int Rows, int Late, int SecondLinks, int Ahead, int Failed);

    /// <summary>
    /// <c>--write-seconds</c> of batches. Per batch of 20 links: one second link of a generated entry
    /// (through its side's other keyword, at a random time of the window so far: earlier or later
    /// than its first), two late entries (1 s to an hour ago), in every fifth batch one entry up to a
    /// minute ahead of the clock, the rest new entries now. Bounded: <c>10 × --write-seconds</c> batches.
    /// </summary>
    private static async Task<WriteCounts> WriteAsync(
        ScenarioContext context, ScenarioContext eventContext, BigEventDatabase database, BigEvent bigEvent, CancellationToken cancellationToken)
    {
        int batches = context.Options.WriteSeconds * (int)(TimeSpan.FromSeconds(1) / BatchInterval);
        int generated = context.Options.Rows;
        var random = new Random(20261202);
        var counts = new WriteCounts();
        long secondLinkCursor = 0;
        long start = Stopwatch.GetTimestamp();
        for (int b = 0; b < batches; b++)
        {
            TimeSpan wait = (BatchInterval * b) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            DateTime now = DateTime.UtcNow;
            var rows = new List<WriteRow>(RowsPerBatch);
            for (int j = 0; j < RowsPerBatch; j++)
            {
                if (j == 0)
                {
                    long g = NextSingleLinked(ref secondLinkCursor, generated);
                    int side = (int)(g % 3);
                    int other = (side * 2) + 1 - (int)(g / 3 % 2);
                    DateTime at = bigEvent.StartAt + ((now - bigEvent.StartAt) * random.NextDouble());
                    rows.Add(new WriteRow(bigEvent.EntryId(g), bigEvent.Keywords[other], at, IsNew: false));
                    counts = counts with { SecondLinks = counts.SecondLinks + 1 };
                    continue;
                }

                DateTime createdAt = now;
                if (j <= 2)
                {
                    createdAt = Later(bigEvent.StartAt, now - TimeSpan.FromSeconds(1 + (random.NextDouble() * 3599)));
                    counts = counts with { Late = counts.Late + 1 };
                }
                else if (j == 3 && b % 5 == 0)
                {
                    createdAt = Earlier(bigEvent.EndAt - TimeSpan.FromSeconds(1), now + TimeSpan.FromSeconds(1 + (random.NextDouble() * 59)));
                    counts = counts with { Ahead = counts.Ahead + 1 };
                }

                rows.Add(new WriteRow(Guid.NewGuid(), bigEvent.Keywords[random.Next(bigEvent.Keywords.Length)], createdAt, IsNew: true));
            }

            await database.WriteBatchAsync(rows, cancellationToken);
            long sentAt = Stopwatch.GetTimestamp();
            HttpStatusCode status = await eventContext.NotifyAsync("big-" + b.ToString(CultureInfo.InvariantCulture), cancellationToken);
            if (status == HttpStatusCode.NoContent)
            {
                context.Stats.RecordOk(sentAt, Stopwatch.GetTimestamp());
            }
            else
            {
                context.Stats.RecordFail("POST /v1/events answered " + (int)status);
                counts = counts with { Failed = counts.Failed + 1 };
            }

            counts = counts with { Batches = counts.Batches + 1, Rows = counts.Rows + rows.Count };
            context.Stats.LiveLine = FormattableString.Invariant($"batch {b + 1}/{batches}, {counts.Rows} rows written");
        }

        context.Stats.Elapsed = Stopwatch.GetElapsedTime(start);
        return counts;
    }

    /// <summary>
    /// The next generated entry that has one link so far: a walk of 0..n-1 by a prime step
    /// (a permutation when the prime does not divide n), skipping the 5 % generated with two.
    /// </summary>
    private static long NextSingleLinked(ref long cursor, int n)
    {
        long g = 0;
        for (int attempt = 0; attempt < BigEventDatabase.SecondLinkModulus; attempt++)
        {
            g = ((cursor++ * 7919) + 3) % n;
            if (g % BigEventDatabase.SecondLinkModulus != BigEventDatabase.SecondLinkRemainder)
            {
                break;
            }
        }

        return g;
    }

    /// <summary>
    /// After the last batch and the reference: one more POST, then <c>GET</c> every 500 ms until the
    /// numbers equal the reference or <paramref name="bound"/> passes (ten seconds plus two of the
    /// longest computations seen: a computation in flight, then the trailing one), and away from a
    /// minute's turn, whose zero point would be a new version reaching the subscribers after the
    /// reading. Returns the last view read, or null.
    /// </summary>
    private static async Task<ServerView?> SettleAsync(
        ScenarioContext context, ScenarioContext eventContext, BigEventNumbers reference, TimeSpan bound, CancellationToken cancellationToken)
    {
        context.Stats.LiveLine = "settling";
        await eventContext.NotifyAsync("big-final", cancellationToken);
        ServerView? view = null;
        long start = Stopwatch.GetTimestamp();
        int polls = (int)Math.Min(3600, (bound / SettlePoll) + 12);
        for (int poll = 0; poll < polls; poll++)
        {
            await Task.Delay(SettlePoll, cancellationToken);
            view = await ReadViewAsync(context, eventContext.EventId, cancellationToken) ?? view;
            bool settled = view is not null && Differences(view.Numbers, reference).Count == 0;
            if ((settled || Stopwatch.GetElapsedTime(start) > bound) && !NearMinuteTurn())
            {
                break;
            }
        }

        context.Stats.SetFigure("settled after (s)", Seconds(Stopwatch.GetElapsedTime(start)));
        // Room for the settled broadcast to reach every subscriber.
        await Task.Delay(SettlePoll, cancellationToken);
        return view;
    }

    /// <summary>Within 3 s before or after a minute's turn (the server's new zero point).</summary>
    private static bool NearMinuteTurn()
    {
        double second = DateTime.UtcNow.TimeOfDay.TotalSeconds % 60;
        return second > 57 || second < 3;
    }

    private static async Task<ServerView?> ReadViewAsync(ScenarioContext context, Guid eventId, CancellationToken cancellationToken)
    {
        (HttpStatusCode status, string body) = await GetViewAsync(context, eventId, cancellationToken);
        if (status != HttpStatusCode.OK)
        {
            context.Stats.RecordFail("GET /v1/events/{id} answered " + (int)status);
            return null;
        }

        return ServerView.Parse(body);
    }

    private static DateTime Later(DateTime a, DateTime b) => a > b ? a : b;

    private static DateTime Earlier(DateTime a, DateTime b) => a < b ? a : b;
}
