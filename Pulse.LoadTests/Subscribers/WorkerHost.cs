using System.Globalization;
using System.Text.Json;
using Pulse.LoadTests.Cli;

namespace Pulse.LoadTests.Subscribers;

/// <summary>The worker side of <see cref="WorkerGroup"/>: hold a share of the subscribers, answer on stdout.</summary>
internal static class WorkerHost
{
    public static async Task<int> RunAsync(LoadOptions options, Target target)
    {
        string topic = "event:" + options.EventId!.ToLowerInvariant();
        double joinRate = options.Scenario == "join-storm" ? Math.Max(1, options.Connections / (double)Math.Max(1, options.Duration)) : 0;
        var spec = new GroupSpec(topic, options.Connections, joinRate, options.WorkerOffset, KeepLastBroadcast: false);
        await using var group = new SubscriberGroup(spec, target.Endpoint, target.HostHeader,
            new SourceAddresses(options.SourceAddresses, 0));
        await group.StartAsync(CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(new { type = "ready", joined = group.JoinedSoFar }));

        // Bounded: the run's duration plus five minutes of slack, then stop on our own.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.Duration + 300));
        try
        {
            while (await Console.In.ReadLineAsync(deadline.Token) is { } line && line != "stop")
            {
                string[] parts = line.Split(' ');
                if (parts.Length == 3 && parts[0] == "tick")
                {
                    group.AnnounceTick(int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The parent went quiet; report what we have.
        }

        GroupResult result = await group.StopAsync();
        Console.WriteLine(JsonSerializer.Serialize(new { type = "result", result }));
        return 0;
    }
}
