using System.Diagnostics;
using System.Net;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Cluster;

/// <summary>What the cluster scenarios share: an event with two sides, tweets, POSTs.</summary>
internal static class ClusterKit
{
    public static async Task<(Guid EventId, Guid Keyword)> CreateEventAsync(TestDatabase database)
    {
        var now = DateTime.UtcNow;
        var (id, keywords) = await database.CreateEventAsync("Barça vs Madrid", now.AddMinutes(-5), now.AddHours(2), ("Barça", "#ForçaBarça"), ("Madrid", "#HalaMadrid"));
        return (id, keywords["#ForçaBarça"]);
    }

    /// <summary><c>POST /v1/events</c> for <paramref name="eventId"/>; asserts 204.</summary>
    public static async Task PostAsync(PulseProcess node, Guid eventId, string name = "tweet")
    {
        var body = $"{{\"topic\":\"event:{eventId:D}\",\"event\":\"{name}\",\"payload\":{{\"event_id\":\"{eventId:D}\"}}}}";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await node.Client.PostAsync(new Uri("/v1/events", UriKind.Relative), content);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<HttpStatusCode> ReadyAsync(PulseProcess node)
    {
        using var response = await node.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        return response.StatusCode;
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until true or <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            }

            await Task.Delay(50);
        }
    }

    public static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
}
