using System.Text;
using Npgsql;
using Pulse.Diagnostics;
using Pulse.Phoenix;

namespace Pulse.Demo;

/// <summary>
/// The demo's stand-in for the background jobs: every <see cref="Period"/> it INSERTs the tweets that
/// "arrived" meanwhile, then tells Pulse with one <c>POST /v1/events</c> over HTTP, exactly as the
/// jobs do in production. Runs until cancelled or until the battle ends (so it is bounded in time).
/// </summary>
internal sealed class TweetSimulator(
    NpgsqlDataSource dataSource, HttpClient http, string apiKey, Guid eventId, DateTime endAt,
    TweetGenerator generator, int rate, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>
    /// 200 ms: five round trips a second whatever the rate; Pulse coalesces into 500 ms windows, so
    /// a faster cadence would not show on screen sooner.
    /// </summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);

    private bool _notifyFailing;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($$$"""{"topic":"{{{EventTopic.Format(eventId)}}}","event":"update","payload":{"event_id":"{{{eventId:D}}}"}}""");
        var batch = new TweetBatch();
        using var timer = new PeriodicTimer(Period, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = timeProvider.GetUtcNow().UtcDateTime;
                if (now >= endAt)
                {
                    DemoLog.BattleEnded(logger);
                    return;
                }

                batch.Clear();
                generator.AddLive(batch, now, Period, rate);
                if (batch.Count == 0)
                {
                    continue;
                }

                try
                {
                    await DemoStore.InsertAsync(dataSource, batch, cancellationToken);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    DemoLog.InsertFailed(logger, batch.Count, e);
                    continue;
                }

                await NotifyAsync(body, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: the demo is stopping.
        }
    }

    private async Task NotifyAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Authorization = new("Bearer", apiKey);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                if (!_notifyFailing)
                {
                    DemoLog.NotifyRejected(logger, (int)response.StatusCode);
                }

                _notifyFailing = true;
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (!_notifyFailing)
            {
                DemoLog.NotifyFailed(logger, e);
            }

            _notifyFailing = true;
            return;
        }

        if (_notifyFailing)
        {
            DemoLog.NotifyRecovered(logger);
            _notifyFailing = false;
        }
    }
}
