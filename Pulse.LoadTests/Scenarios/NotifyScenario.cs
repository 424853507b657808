using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using HdrHistogram;
using Pulse.LoadTests.Cli;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// The cost of notifications: <c>POST /v1/events</c> at <c>--rate</c> (or every one of
/// <c>--connections</c> keep-alive connections busy) spread round-robin over <c>--events</c>
/// events, one subscriber per event on <c>--subscribe-target</c>, 50 rows/s inserted over the
/// events. Beside the load, a probe POSTs <c>probe-&lt;seq&gt;</c> every 100 ms on one of
/// <see cref="ProbeEvents"/> events of its own and times the broadcast carrying that name.
/// Reports POST/s and status codes, the server's statements and transactions per second
/// (<c>pg_stat_statements</c>, the tool's own left out), probe latency, server CPU; checks every
/// POST is a 204, no probe broadcast is missing, and every subscriber's last broadcast equals SQL.
/// </summary>
internal sealed partial class NotifyScenario : IScenario
{
    /// <summary>Rows per second inserted over the load events, so their numbers change.</summary>
    private const int InsertsPerSecond = 50;
    /// <summary>Probe events, probed in turn: each is idle 2 s between probes (the server computes an event at most twice a second).</summary>
    private const int ProbeEvents = 20;
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    /// <summary>How long a probe's broadcast may take after the load ends: a 500 ms window and a slow computation.</summary>
    private static readonly TimeSpan ProbeGrace = TimeSpan.FromSeconds(3);
    /// <summary>How long a new event may be unknown to a node's catalog (docs/design.md §11: the next second's read).</summary>
    private static readonly TimeSpan CatalogWait = TimeSpan.FromSeconds(10);
    /// <summary>Bounds a closed-loop connection even against an impossibly fast server.</summary>
    private const long MaxPostsPerConnection = 10_000_000;
    private const int MaxEvents = 10_000;

    public string Name => "notify";
    public bool NeedsDatabase => true;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        LoadOptions options = context.Options;
        LoadDatabase database = context.Database!;
        ScenarioStats stats = context.Stats;
        if (options.Events is < 1 or > MaxEvents)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"--events must be 1 to {MaxEvents}, got {options.Events}"));
            return;
        }

        Target subscribeTarget = options.SubscribeTarget is { } url ? Target.Parse(url, options.AllowRemote) : context.Target;

        // The events: the runner's own and M - 1 more, then the probe's.
        stats.LiveLine = FormattableString.Invariant($"creating {options.Events - 1 + ProbeEvents} events");
        var loadEvents = new Guid[options.Events];
        loadEvents[0] = context.EventId;
        for (int i = 1; i < loadEvents.Length; i++)
        {
            loadEvents[i] = await database.CreateEventAsync(cancellationToken);
        }

        var probeEvents = new Guid[ProbeEvents];
        for (int i = 0; i < probeEvents.Length; i++)
        {
            probeEvents[i] = await database.CreateEventAsync(cancellationToken);
        }

        Guid[] allEvents = [.. loadEvents, .. probeEvents];
        var keywords = new Guid[allEvents.Length][];
        for (int i = 0; i < allEvents.Length; i++)
        {
            keywords[i] = await database.KeywordIdsAsync(allEvents[i], cancellationToken);
        }

        stats.LiveLine = "waiting for the catalog";
        await WaitForCatalogAsync(context, allEvents, [context.Target, subscribeTarget], cancellationToken);

        // Subscribers: index i < M is load event i, then the probe events.
        var probe = new Probe(checked((int)(options.Duration / ProbeInterval.TotalSeconds) + 16));
        await using var subscribers = new NotifySubscribers(
            allEvents.Select(id => "event:" + id.ToString("D")).ToArray(), subscribeTarget.Endpoint, subscribeTarget.HostHeader,
            new SourceAddresses(options.SourceAddresses, 0))
        {
            ProbeReceived = probe.Received,
        };
        stats.LiveLine = FormattableString.Invariant($"joining {allEvents.Length} subscribers");
        await subscribers.StartAsync(cancellationToken);
        if (subscribers.Joined < allEvents.Length)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{subscribers.Joined} of {allEvents.Length} subscribers joined"));
        }

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var poster = new Poster(http, new Uri(context.Target.BaseUri, "v1/events"), options.ApiKey);
        var statuses = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);

        // The set-up's transactions (events, GETs, joins) must be flushed to the statistics before the first reading.
        await Task.Delay(LoadDatabase.StatisticsSettle, cancellationToken);
        LoadDatabase.ServerStatements statementsBefore = await database.ReadServerStatementsAsync(cancellationToken);
        ProcessSample? serverBefore = context.SampleServer();
        TimeSpan duration = TimeSpan.FromSeconds(options.Duration);
        long start = Stopwatch.GetTimestamp();
        int inserted = 0;
        long posted = 0;
        Task inserts = LoadSimulation.InjectAsync(InsertsPerSecond, duration, 8, async (i, ct) =>
        {
            int e = (int)(i % loadEvents.Length);
            Guid[] sides = keywords[e];
            if (sides.Length > 0)
            {
                await database.InsertEntryAsync(sides[(int)(i / loadEvents.Length % sides.Length)], ct);
                Interlocked.Increment(ref inserted);
            }
        }, cancellationToken);
        Task probes = options.NoProbe ? Task.CompletedTask : LoadSimulation.InjectAsync(1 / ProbeInterval.TotalSeconds, duration, 32, async (i, ct) =>
        {
            int seq = (int)i + 1;
            int e = loadEvents.Length + (int)(i % ProbeEvents);
            Guid[] sides = keywords[e];
            if (sides.Length > 0)
            {
                await database.InsertEntryAsync(sides[(int)(i / ProbeEvents % sides.Length)], ct);
                probe.RowInserted();
            }

            await probe.SendAsync(context.Http, context.Target, options.ApiKey, allEvents[e], seq, ct);
        }, cancellationToken);

        async Task PostAsync(long i, CancellationToken ct)
        {
            Guid id = loadEvents[(int)(i % loadEvents.Length)];
            long sentAt = Stopwatch.GetTimestamp();
            try
            {
                HttpStatusCode status = await poster.PostAsync(id, "notify-" + i.ToString(CultureInfo.InvariantCulture), ct);
                statuses.AddOrUpdate(((int)status).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                if (status == HttpStatusCode.NoContent)
                {
                    stats.RecordOk(sentAt, Stopwatch.GetTimestamp());
                }
                else
                {
                    stats.RecordFail("POST /v1/events answered " + (int)status);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The duration ended mid-request (closed loop): neither ok nor failed.
            }
            catch (HttpRequestException ex)
            {
                statuses.AddOrUpdate("no answer", 1, (_, n) => n + 1);
                stats.RecordFail("POST failed: " + ex.Message);
            }

            stats.LiveLine = FormattableString.Invariant(
                $"{stats.Ok / Math.Max(0.001, Stopwatch.GetElapsedTime(start).TotalSeconds):F0} POST/s, {inserted} rows, probe {probe.Sent} sent / {probe.Receipts} received");
        }

        Task posts = options.Rate is { } rate
            ? LoadSimulation.InjectAsync(rate, duration, options.Connections * 4, PostAsync, cancellationToken)
            : LoadSimulation.KeepConstantAsync(options.Connections, duration, MaxPostsPerConnection,
                ct => PostAsync(Interlocked.Increment(ref posted) - 1, ct), cancellationToken);
        await Task.WhenAll(inserts, probes, posts);
        stats.Elapsed = Stopwatch.GetElapsedTime(start);
        long loadEnded = Stopwatch.GetTimestamp();
        ProcessSample? serverAfter = context.SampleServer();

        // Let PostgreSQL flush the backends' statistics (the trailing computations of the last window land in it too).
        await Task.Delay(LoadDatabase.StatisticsSettle, cancellationToken);
        LoadDatabase.ServerStatements statementsAfter = await database.ReadServerStatementsAsync(cancellationToken);
        await probe.WaitForReceiptsAsync(loadEnded, ProbeGrace, cancellationToken);

        double seconds = Math.Max(stats.Elapsed.TotalSeconds, 1e-6);
        long postCount = stats.Ok + stats.Fail;
        stats.SetFigure("load", options.Rate is { } r
            ? FormattableString.Invariant($"inject {r:F0} POST/s over {options.Connections} connections at most")
            : FormattableString.Invariant($"{options.Connections} connections, each busy"));
        stats.SetFigure("events", loadEvents.Length.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("subscribe target", subscribeTarget.BaseUri.ToString());
        stats.SetFigure("POSTs", postCount.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("POST/s", FormattableString.Invariant($"{postCount / seconds:F0}"));
        stats.SetFigure("POST status codes", string.Join(", ", statuses.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ": " + p.Value)));
        stats.SetFigure("rows inserted", (inserted + probe.RowsInserted).ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("broadcasts received", subscribers.Broadcasts.ToString(CultureInfo.InvariantCulture));
        AddStatementFigures(context, statementsBefore, statementsAfter, ownCommits: inserted + probe.RowsInserted, seconds, postCount);
        probe.AddFigures(context);
        context.AddServerFigures(serverBefore, serverAfter, stats.Ok, "POST");

        await CheckExactAsync(context, poster, subscribers, allEvents, cancellationToken);
        await subscribers.StopAsync();
        foreach (var (error, count) in subscribers.Errors)
        {
            stats.Errors.AddOrUpdate("subscriber: " + error, count, (_, n) => n + count);
        }
    }

    /// <summary>Polls <c>GET /v1/events/{id}</c> on every node until each event is known (a 404 while the catalog has not read it yet).</summary>
    private static async Task WaitForCatalogAsync(ScenarioContext context, Guid[] events, Target[] nodes, CancellationToken cancellationToken)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(CatalogWait.TotalSeconds * Stopwatch.Frequency);
        foreach (Target node in nodes.Distinct())
        {
            foreach (Guid id in events)
            {
                for (int attempt = 0; ; attempt++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.BaseUri, "v1/events/" + id.ToString("D")));
                    request.Headers.Authorization = new("Bearer", context.Options.ApiKey);
                    using HttpResponseMessage response = await context.Http.SendAsync(request, cancellationToken);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }

                    if (response.StatusCode != HttpStatusCode.NotFound || Stopwatch.GetTimestamp() > deadline || attempt >= 200)
                    {
                        throw new InvalidOperationException(FormattableString.Invariant(
                            $"GET /v1/events/{id:D} on {node.BaseUri} answered {(int)response.StatusCode}: the events must be known to every node"));
                    }

                    await Task.Delay(100, cancellationToken);
                }
            }
        }
    }

    /// <summary><c>POST /v1/events</c> (docs/design.md §6) on one HTTP client.</summary>
    private sealed class Poster(HttpClient http, Uri uri, string? apiKey)
    {
        private readonly System.Net.Http.Headers.AuthenticationHeaderValue _auth = new("Bearer", apiKey);

        public async Task<HttpStatusCode> PostAsync(Guid eventId, string name, CancellationToken cancellationToken)
        {
            string id = eventId.ToString("D");
            using var request = new HttpRequestMessage(HttpMethod.Post, uri)
            {
                Content = new StringContent(
                    $$$"""{"topic":"event:{{{id}}}","event":"{{{name}}}","payload":{"event_id":"{{{id}}}"}}""",
                    System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = _auth;
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode;
        }
    }

    /// <summary>
    /// The latency probe: send time of each <c>probe-&lt;seq&gt;</c> POST answered 204, the first receipt of
    /// its broadcast, and the histogram of the difference.
    /// </summary>
    private sealed class Probe(int capacity)
    {
        private readonly long[] _sentAt = new long[capacity];
        private readonly long[] _receivedAt = new long[capacity];
        private readonly LongConcurrentHistogram _latency = ScenarioStats.NewHistogram();
        private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
        private int _sent;
        private int _accepted;
        private int _receipts;
        private int _rows;

        public int Sent => Volatile.Read(ref _sent);

        public int Receipts => Volatile.Read(ref _receipts);

        public int RowsInserted => Volatile.Read(ref _rows);

        public void RowInserted() => Interlocked.Increment(ref _rows);

        public async Task SendAsync(HttpClient http, Target target, string? apiKey, Guid eventId, int seq, CancellationToken cancellationToken)
        {
            if ((uint)seq >= _sentAt.Length)
            {
                return;
            }

            var poster = new Poster(http, new Uri(target.BaseUri, "v1/events"), apiKey);
            Interlocked.Increment(ref _sent);
            // Set before the POST, so a broadcast can never arrive before its send time is known.
            Volatile.Write(ref _sentAt[seq], Stopwatch.GetTimestamp());
            try
            {
                HttpStatusCode status = await poster.PostAsync(eventId, "probe-" + seq.ToString(CultureInfo.InvariantCulture), cancellationToken);
                if (status == HttpStatusCode.NoContent)
                {
                    Interlocked.Increment(ref _accepted);
                    return;
                }

                _failures.AddOrUpdate("probe POST answered " + (int)status, 1, (_, n) => n + 1);
            }
            catch (HttpRequestException ex)
            {
                _failures.AddOrUpdate("probe POST failed: " + ex.Message, 1, (_, n) => n + 1);
            }

            // Not accepted: not expected either.
            Volatile.Write(ref _sentAt[seq], -1);
        }

        /// <summary>On a socket thread: the first receipt of <c>probe-&lt;seq&gt;</c> counts.</summary>
        public void Received(int seq, long receivedAt)
        {
            if ((uint)seq >= _sentAt.Length)
            {
                return;
            }

            long sentAt = Volatile.Read(ref _sentAt[seq]);
            if (sentAt <= 0 || Interlocked.CompareExchange(ref _receivedAt[seq], receivedAt, 0) != 0)
            {
                return;
            }

            Interlocked.Increment(ref _receipts);
            _latency.RecordValue(Math.Clamp((long)Stopwatch.GetElapsedTime(sentAt, receivedAt).TotalMicroseconds, 1, 300_000_000));
        }

        /// <summary>Waits until every accepted probe was received, or <paramref name="grace"/> after <paramref name="loadEnded"/>.</summary>
        public async Task WaitForReceiptsAsync(long loadEnded, TimeSpan grace, CancellationToken cancellationToken)
        {
            while (Receipts < Volatile.Read(ref _accepted) && Stopwatch.GetElapsedTime(loadEnded) < grace)
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        public void AddFigures(ScenarioContext context)
        {
            ScenarioStats stats = context.Stats;
            int accepted = Volatile.Read(ref _accepted);
            int missing = accepted - Receipts;
            stats.SetFigure("probes sent", Sent.ToString(CultureInfo.InvariantCulture));
            stats.SetFigure("probe broadcasts missing", missing.ToString(CultureInfo.InvariantCulture));
            if (_latency.TotalCount > 0)
            {
                static string Ms(long microseconds) => (microseconds / 1000.0).ToString("F1", CultureInfo.InvariantCulture);
                stats.SetFigure("probe latency p50/p90/p99/max (ms)", string.Join(" / ",
                    Ms(_latency.GetValueAtPercentile(50)), Ms(_latency.GetValueAtPercentile(90)),
                    Ms(_latency.GetValueAtPercentile(99)), Ms(_latency.GetMaxValue())));

                // Where the tail sits in the run (its start, a steady state, its end) tells warm-up from load.
                long first = _sentAt.Where(t => t > 0).DefaultIfEmpty(0).Min();
                var slowest = Enumerable.Range(0, _sentAt.Length)
                    .Where(i => _sentAt[i] > 0 && _receivedAt[i] > 0)
                    .OrderByDescending(i => _receivedAt[i] - _sentAt[i])
                    .Take(5)
                    .Select(i => FormattableString.Invariant(
                        $"#{i} at {Stopwatch.GetElapsedTime(first, _sentAt[i]).TotalSeconds:F1} s: {Stopwatch.GetElapsedTime(_sentAt[i], _receivedAt[i]).TotalMilliseconds:F1} ms"));
                stats.SetFigure("slowest probes", string.Join(", ", slowest));
            }

            foreach (var (failure, count) in _failures)
            {
                stats.Errors.AddOrUpdate(failure, count, (_, n) => n + count);
                context.CheckFailures.Add(FormattableString.Invariant($"{failure} ({count}×)"));
            }

            if (missing > 0)
            {
                context.CheckFailures.Add(FormattableString.Invariant($"{missing} of {accepted} probe broadcasts missing"));
            }
        }
    }
}
