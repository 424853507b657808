using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Runner;
using Pulse.Testing.Processes;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// <c>GET /v1/events/{id}</c> over a fixed pool of keep-alive connections (--connections):
/// each connection busy for D seconds, or, with --rate, R requests a second.
/// </summary>
internal sealed class RestScenario : IScenario
{
    /// <summary>Bounds a closed-model loop even against an impossibly fast server: 10 M requests per connection.</summary>
    private const long MaxRequestsPerConnection = 10_000_000;

    public string Name => "rest";
    public bool NeedsDatabase => false;

    public async Task RunAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        ScenarioStats stats = context.Stats;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var uri = new Uri(context.Target.BaseUri, "v1/events/" + context.EventId.ToString("D"));
        var auth = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.ApiKey);

        ProcessSample? before = context.SampleServer();
        TimeSpan duration = TimeSpan.FromSeconds(options.Duration);
        long start = Stopwatch.GetTimestamp();
        if (options.Rate is { } rate)
        {
            await LoadSimulation.InjectAsync(rate, duration, options.Connections * 4, (_, ct) => GetAsync(ct), cancellationToken);
        }
        else
        {
            await LoadSimulation.KeepConstantAsync(options.Connections, duration, MaxRequestsPerConnection, GetAsync, cancellationToken);
        }

        stats.Elapsed = Stopwatch.GetElapsedTime(start);
        ProcessSample? after = context.SampleServer();
        stats.SetFigure("HTTP connections", options.Connections.ToString(CultureInfo.InvariantCulture));
        stats.SetFigure("load", options.Rate is { } r ? FormattableString.Invariant($"inject {r:F0}/s") : "keep every connection busy");
        context.AddServerFigures(before, after, stats.Ok, "request");

        async Task GetAsync(CancellationToken ct)
        {
            long sentAt = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Authorization = auth;
                using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    stats.RecordOk(sentAt, Stopwatch.GetTimestamp());
                }
                else
                {
                    stats.RecordFail("GET answered " + (int)response.StatusCode);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The duration ended mid-request: neither ok nor failed.
            }
            catch (HttpRequestException ex)
            {
                stats.RecordFail("GET failed: " + ex.Message);
            }

            stats.LiveLine = FormattableString.Invariant($"{stats.Ok / Math.Max(0.001, Stopwatch.GetElapsedTime(start).TotalSeconds):F0} req/s");
        }
    }
}
