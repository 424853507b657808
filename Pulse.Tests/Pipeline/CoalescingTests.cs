using System.Diagnostics;
using System.Net.Http.Json;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Pipeline;

/// <summary>docs/design.md §8 over real sockets on the real server with its real 500 ms ticker.</summary>
// Serial: the last broadcast is awaited as the first 1.5 s of quiet after the last POST (wall time), which a
// machine shared with parallel classes can stretch past.
[Collection(SerialPipeline.Name)]
[Trait("Category", "socket")] public sealed class CoalescingTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int Posts = 1000;

    [Fact]
    public async Task Post_ThousandIn2sWhileRowsInserted_AtMostSixComputationsAndLastBroadcastExact()
    {
        await using var statements = await StatementCounter.OpenAsync(database);
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromHours(1));
        var (eventId, kw) = await database.CreateEventAsync("Flood", start, end, ("Barça", "#fcb"), ("Madrid", "#rm"), ("Madrid", "#halamadrid"));
        var keywords = kw.Values.ToArray();
        await using var server = await TestServer.StartAsync(database);
        await using var subscriber = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var joined = await subscriber.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout);
        Assert.Equal("ok", joined.Status);
        long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);
        long executionsBefore = await statements.ViewModelAsync();

        // Rows arrive while the POSTs do; the last POST follows the last committed row, so the last
        // broadcast must count every row.
        var clock = Stopwatch.StartNew();
        using var stopInserting = new CancellationTokenSource();
        var inserter = InsertUntilAsync(start, keywords, stopInserting.Token);
        await PostPacedAsync(server, eventId, Posts - 1, TimeSpan.FromMilliseconds(1800));
        await stopInserting.CancelAsync();
        int rows = await inserter;
        await PipelineKit.PostAsync(server, eventId, "post-999");
        var postsTook = clock.Elapsed;

        // One computation per 500 ms window touched, plus the leading and the trailing edge: 6 when the
        // POSTs take under 2 s as paced; a loaded CI machine that stretches them gets the same rule, not a flake.
        int bound = (int)Math.Ceiling(postsTook / TimeSpan.FromMilliseconds(500)) + 2;

        // The trailing edge comes at most one window (500 ms) plus a computation after the last POST.
        var broadcasts = await subscriber.ReceiveUntilQuietAsync(TimeSpan.FromSeconds(1.5));
        long computations = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) - computationsBefore;
        long executions = await statements.ViewModelAsync() - executionsBefore;
        var (total, sides) = await PipelineKit.IndependentCountsAsync(database, eventId);
        output.WriteLine($"{Posts} POSTs in {postsTook.TotalMilliseconds:F0} ms, {rows} rows; computations: metric {computations}, pg_stat_statements {executions}; broadcasts {broadcasts.Count}");

        Assert.InRange(computations, 2, bound);
        Assert.Equal(computations, executions);
        Assert.NotEmpty(broadcasts);
        Assert.All(broadcasts, b => Assert.Equal(PipelineKit.Topic(eventId), b.Topic));
        var last = broadcasts[^1];
        // The name is the latest notification coalesced into the last computation that CHANGED the numbers:
        // post-999 itself may land in a window after the last row was already counted, and a computation
        // that changes nothing broadcasts nothing (docs/design.md §5). What must hold is that the numbers are exact.
        Assert.StartsWith("post-", last.Event, StringComparison.Ordinal);
        Assert.Null(last.JoinRef);
        Assert.True(total > 0);
        Assert.Equal(total, last.Total);
        Assert.Equal(sides, last.Counts);

        // Versions grow with each change (a frame replaced in the slot would leave a gap, not a repeat).
        Assert.All(broadcasts.Zip(broadcasts.Skip(1)), pair => Assert.True(pair.Second.Version > pair.First.Version));
        Assert.True(broadcasts[0].Version > joined.Version);
    }

    [Fact]
    public async Task Post_NothingChanged_NoBroadcastAndVersionUnchanged()
    {
        var (start, end) = PipelineKit.EndedWindow(TimeSpan.FromMinutes(30));
        var (eventId, kw) = await database.CreateEventAsync("Quiet", start, end, ("A", "#a"), ("B", "#b"));
        await database.InsertEntryAsync(start.AddMinutes(3), kw["#a"]);
        await using var server = await TestServer.StartAsync(database);
        await using var subscriber = await PhoenixClient.ConnectAsync(server.WebSocketUri());
        var joined = await subscriber.JoinAsync(PipelineKit.Topic(eventId), timeout: PipelineKit.ReplyTimeout);
        long computationsBefore = server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal);

        await PipelineKit.PostAsync(server, eventId, "nothing");

        // The computation ran (leading edge) and found the same numbers.
        Assert.True(await PipelineKit.EventuallyAsync(() => server.Server.Metrics.ReadLong(PulseMetrics.ComputationsTotal) > computationsBefore, TimeSpan.FromSeconds(2)));
        Assert.Null(await subscriber.ReceiveAsync(TimeSpan.FromSeconds(1.5)));
        var model = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/events/{eventId:D}");
        Assert.Equal(joined.Version, model.GetProperty("version").GetInt64());
        Assert.Equal(1, model.GetProperty("total").GetInt32());
    }

    // 1,000 requests paced evenly over the span by 16 workers (bounded concurrency: 16 connections).
    private static async Task PostPacedAsync(TestServer server, Guid eventId, int count, TimeSpan span)
    {
        int next = -1;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var due = span * i / count;
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }

                await PipelineKit.PostAsync(server, eventId, "post-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        });
        await Task.WhenAll(workers);
    }

    // One entry at a time (its own commits), linked to one or two keywords; bounded at 2,000 rows.
    private async Task<int> InsertUntilAsync(DateTime start, Guid[] keywords, CancellationToken stop)
    {
        await Task.Yield();
        var random = new Random(42);
        int rows = 0;
        while (!stop.IsCancellationRequested && rows < 2000)
        {
            var chosen = random.Next(3) == 0 ? keywords : [keywords[random.Next(keywords.Length)]];
            await database.InsertEntryAsync(start.AddSeconds(random.Next(0, 3600)), [.. chosen.Distinct()]);
            rows++;
        }

        return rows;
    }
}
