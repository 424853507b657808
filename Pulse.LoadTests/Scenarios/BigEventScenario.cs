using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Data;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// A big battle (docs/design.md §10 "a tick of a big battle"): an event of its own with
/// <c>--rows</c> entries generated in its window, then the cold <c>GET</c> the server has never
/// answered, then <c>--connections</c> subscribers while 200 rows/s are written for
/// <c>--write-seconds</c> (new, late, second links, a few ahead of the clock), each batch
/// followed by a POST. Reports computation times from <c>/metrics</c>, database time per tick from
/// <c>pg_stat_statements</c> and memory per counted entry; checks the final numbers, point by
/// point, against the tool's own SQL, and every subscriber's last broadcast against the final GET.
/// The event and its rows are deleted at the end unless <c>--keep</c>.
/// </summary>
internal sealed partial class BigEventScenario : IScenario
{
    /// <summary>Entries per generating statement: the batch PostgreSQL sorts into the index at once.</summary>
    private const int GenerationBatch = 1_000_000;
    private const int MaxRows = 50_000_000;
    /// <summary>How long the 404 of an event the server's catalog has not heard of yet may last (docs/design.md §11: the next second's read).</summary>
    private static readonly TimeSpan CatalogWait = TimeSpan.FromSeconds(5);
    /// <summary>Deleting ten million rows takes about a minute; the run's own token may be gone by then.</summary>
    private static readonly TimeSpan CleanupBound = TimeSpan.FromMinutes(10);
    /// <summary>
    /// GETs of the view have their own client: a cold computation of ten million rows outlasts the
    /// runner's 30 s request timeout (the run's own bound still holds).
    /// </summary>
    private static readonly HttpClient Views = new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromMinutes(10) };

    public string Name => "big-event";
    public bool NeedsDatabase => true;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        if (options.Rows is < 1 or > MaxRows || options.WriteSeconds is < 1 or > 3600)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"--rows must be 1..{MaxRows} and --write-seconds 1..3600"));
            return;
        }

        await using BigEventDatabase database = BigEventDatabase.Open(options.DatabaseUrl!);
        BigEvent bigEvent = await database.CreateEventAsync(DateTime.UtcNow, cancellationToken);
        context.Stats.SetFigure("event", bigEvent.Id.ToString("D"));
        try
        {
            await RunOnAsync(context, database, bigEvent, cancellationToken);
        }
        finally
        {
            if (options.Keep)
            {
                context.Stats.SetFigure("cleanup", "kept (--keep)");
            }
            else
            {
                context.Stats.LiveLine = "deleting the generated rows";
                using var bound = new CancellationTokenSource(CleanupBound);
                long start = Stopwatch.GetTimestamp();
                await database.DeleteAsync(bigEvent, bound.Token);
                context.Stats.SetFigure("cleanup (s)", Seconds(Stopwatch.GetElapsedTime(start)));
            }
        }
    }

    private static async Task RunOnAsync(ScenarioContext context, BigEventDatabase database, BigEvent bigEvent, CancellationToken cancellationToken)
    {
        var options = context.Options;
        ScenarioStats stats = context.Stats;
        int rows = options.Rows;
        double spanSeconds = (DateTime.UtcNow - bigEvent.StartAt).TotalSeconds;
        long start = Stopwatch.GetTimestamp();
        long links = 0;
        for (long first = 0; first < rows; first += GenerationBatch)
        {
            stats.LiveLine = FormattableString.Invariant($"generating rows {first:N0}..{Math.Min(rows, first + GenerationBatch):N0} of {rows:N0}");
            links += await database.GenerateAsync(bigEvent, first, Math.Min(GenerationBatch, rows - first), rows, spanSeconds, cancellationToken);
        }

        TimeSpan generation = Stopwatch.GetElapsedTime(start);
        stats.LiveLine = "analyze and vacuum";
        start = Stopwatch.GetTimestamp();
        await database.AnalyzeAndVacuumAsync(cancellationToken);
        TimeSpan vacuum = Stopwatch.GetElapsedTime(start);
        bool statements = await database.ResetStatementsAsync(cancellationToken);
        stats.SetFigure("rows generated (entries)", rows.ToString("N0", CultureInfo.InvariantCulture));
        stats.SetFigure("links generated", links.ToString("N0", CultureInfo.InvariantCulture));
        stats.SetFigure("generation (s)", Seconds(generation));
        stats.SetFigure("generation rate (links/s)", (links / Math.Max(generation.TotalSeconds, 1e-3)).ToString("N0", CultureInfo.InvariantCulture));
        stats.SetFigure("analyze + vacuum (s)", Seconds(vacuum));

        stats.LiveLine = "cold GET";
        TimeSpan? cold = await ColdGetAsync(context, bigEvent.Id, cancellationToken);
        if (cold is null)
        {
            return;
        }

        StatementTotals? afterCold = statements ? await database.ReadStatementsAsync(cancellationToken) : null;
        stats.SetFigure("cold database time (ms)", afterCold is { } c ? Ms(c.FullCalls > 0 ? c.FullMs : c.LinkMs) : "n/a");

        // The runner's context names the event it created; this one names the big event, for joins and POSTs.
        var eventContext = new ScenarioContext(options, context.Target, context.Database, bigEvent.Id, context.Http);
        await using ISubscriberGroup group = eventContext.CreateGroup(options.Connections, 0, keepLastBroadcast: true);
        stats.LiveLine = "joining " + options.Connections + " subscribers";
        await group.StartAsync(cancellationToken);

        Dictionary<string, double>? metricsBefore = await ReadMetricsAsync(context, cancellationToken);
        StatementTotals? statementsBefore = statements ? await database.ReadStatementsAsync(cancellationToken) : null;
        WriteCounts written = await WriteAsync(context, eventContext, database, bigEvent, cancellationToken);
        Dictionary<string, double>? metricsAfter = await ReadMetricsAsync(context, cancellationToken);
        StatementTotals? statementsAfter = statements ? await database.ReadStatementsAsync(cancellationToken) : null;

        // The rows are final now: the reference first, then wait (bounded) for the server to agree.
        stats.LiveLine = "reference counts";
        BigEventNumbers reference = await database.ReferenceAsync(bigEvent.Id, cancellationToken);
        TimeSpan longest = cold.Value > LongestComputation(metricsBefore, metricsAfter) ? cold.Value : LongestComputation(metricsBefore, metricsAfter);
        ServerView? final = await SettleAsync(context, eventContext, reference, SettleBound + (2 * longest), cancellationToken);
        GroupResult result = await group.StopAsync();
        context.WorkerCpuSeconds = options.Workers > 1 ? result.CpuSeconds : 0;

        stats.SetFigure("subscribers joined", result.Joined.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("rows written", FormattableString.Invariant(
            $"{written.Rows} ({written.Late} late, {written.SecondLinks} second links, {written.Ahead} ahead) in {written.Batches} batches"));
        ReportComputations(stats, metricsBefore, metricsAfter, statementsBefore, statementsAfter);
        ReportMemory(stats, metricsAfter);
        CheckNumbers(context, final, reference, result);
        if (result.Joined < options.Connections)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{result.Joined} of {options.Connections} subscribers joined"));
        }

        if (written.Failed > 0)
        {
            context.CheckFailures.Add(FormattableString.Invariant($"{written.Failed} notifications not accepted"));
        }
    }

    /// <summary>The first <c>GET /v1/events/{id}</c> of the event: its wall time (a 404 while the catalog has not heard of the event is retried).</summary>
    private static async Task<TimeSpan?> ColdGetAsync(ScenarioContext context, Guid eventId, CancellationToken cancellationToken)
    {
        // A connection made beforehand, so the figure is the request and not a TCP handshake.
        using (HttpResponseMessage warm = await Views.GetAsync(new Uri(context.Target.BaseUri, "healthz"), cancellationToken))
        {
            _ = warm.StatusCode;
        }

        long deadline = Stopwatch.GetTimestamp() + (long)(CatalogWait.TotalSeconds * Stopwatch.Frequency);
        for (int attempt = 0; attempt < 100; attempt++)
        {
            long sentAt = Stopwatch.GetTimestamp();
            (HttpStatusCode status, _) = await GetViewAsync(context, eventId, cancellationToken);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(sentAt);
            if (status == HttpStatusCode.OK)
            {
                context.Stats.SetFigure("cold GET (ms)", Ms(elapsed.TotalMilliseconds));
                return elapsed;
            }

            if (status != HttpStatusCode.NotFound || Stopwatch.GetTimestamp() > deadline)
            {
                context.Stats.SetFigure("cold GET (ms)", FormattableString.Invariant($"{(int)status} after {elapsed.TotalMilliseconds:F0}"));
                context.CheckFailures.Add("cold GET /v1/events/{id} answered " + (int)status);
                return null;
            }

            await Task.Delay(100, cancellationToken);
        }

        context.CheckFailures.Add("cold GET /v1/events/{id}: no answer but 404");
        return null;
    }

    /// <summary><c>GET /v1/events/{id}</c> with the key: status and body.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> GetViewAsync(ScenarioContext context, Guid eventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(context.Target.BaseUri, "v1/events/" + eventId.ToString("D")));
        request.Headers.Authorization = new("Bearer", context.Options.ApiKey);
        using HttpResponseMessage response = await Views.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);

    private static string Ms(double milliseconds) => milliseconds.ToString("F2", CultureInfo.InvariantCulture);
}
