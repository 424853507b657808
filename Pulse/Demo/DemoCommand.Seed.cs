using Npgsql;
using Pulse.Storage;

namespace Pulse.Demo;

internal static partial class DemoCommand
{
    private sealed record Seeded(Guid EventId, DateTime EndAt, string ApiKey, TweetGenerator Generator);

    /// <summary>The live battle with its half hour of history, the upcoming battle, and an API key.</summary>
    private static async Task<Seeded> SeedAsync(NpgsqlDataSource jobs, int rate, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var live = DemoBattle.Live(now);
        var (eventId, sides) = await DemoStore.CreateBattleAsync(jobs, live, cancellationToken);
        await DemoStore.CreateBattleAsync(jobs, DemoBattle.Upcoming(now), cancellationToken);
        var generator = new TweetGenerator(sides, [.. live.Sides.Select(s => s.Weight)], new Random());
        int tweets = 0;
        foreach (var minute in generator.History(live.StartAt, now, rate))
        {
            tweets += minute.Count;
            await DemoStore.InsertAsync(jobs, minute, cancellationToken);
        }

        Console.Out.WriteLine($"created \"{live.Name}\" with {tweets} tweets of history, and an upcoming battle");
        var key = await ApiKeyStore.CreateAsync(jobs, "pulse demo", cancellationToken);
        return new Seeded(eventId, live.EndAt, key, generator);
    }

    private static void PrintWelcome(string baseUrl, Guid eventId, string apiKey, int rate, string folder, bool keep)
    {
        Console.Out.WriteLine($"""

            Pulse demo is running: a simulated feed sends about {rate} tweets a second, with bursts.

              Live battle:  {baseUrl}/events/{eventId:D}
              All battles:  {baseUrl}/
              API key:      {apiKey}

              Try:  curl -H "Authorization: Bearer {apiKey}" {baseUrl}/v1/events/{eventId:D}

            Press Ctrl-C to stop the feed, the server and PostgreSQL{(keep ? $" (kept: {folder})" : $" ({folder} is removed)")}.
            """);
        Console.Out.Flush();
    }
}
