using HdrHistogram;
using Pulse.LoadTests.Runner;

namespace Pulse.LoadTests.Subscribers;

/// <summary>What a group of subscribers saw; a worker sends it to the parent as one JSON line.</summary>
internal sealed class GroupResult
{
    public int Joined { get; set; }
    public int JoinFailed { get; set; }
    /// <summary>Joined sockets the server closed before the run ended.</summary>
    public int Dropped { get; set; }
    public long Broadcasts { get; set; }
    public long TickReceipts { get; set; }
    public double ConnectSeconds { get; set; }
    public double CpuSeconds { get; set; }
    public string? LimitMessage { get; set; }
    public Dictionary<string, int> Errors { get; set; } = [];
    /// <summary>Join latency histogram as [value µs, count] pairs (the raw counts, mergeable).</summary>
    public List<long[]> JoinLatency { get; set; } = [];
    public List<long[]> TickLatency { get; set; } = [];
    public long LastVersion { get; set; }
    public string? LastPayload { get; set; }
    /// <summary>With KeepLastBroadcast: the lowest of the sockets' last broadcast versions (equal to <see cref="LastVersion"/> when every socket has the newest).</summary>
    public long MinLastVersion { get; set; }

    public static List<long[]> Encode(HistogramBase histogram) =>
        histogram.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo }).ToList();

    public static void DecodeInto(List<long[]> pairs, HistogramBase histogram)
    {
        foreach (long[] pair in pairs)
        {
            histogram.RecordValueWithCount(pair[0], pair[1]);
        }
    }

    /// <summary>Sums counters and merges histograms of every worker.</summary>
    public static GroupResult Merge(IReadOnlyList<GroupResult> parts)
    {
        var join = ScenarioStats.NewHistogram();
        var tick = ScenarioStats.NewHistogram();
        var merged = new GroupResult { MinLastVersion = parts.Count == 0 ? 0 : parts.Min(p => p.MinLastVersion) };
        foreach (GroupResult part in parts)
        {
            merged.Joined += part.Joined;
            merged.JoinFailed += part.JoinFailed;
            merged.Dropped += part.Dropped;
            merged.Broadcasts += part.Broadcasts;
            merged.TickReceipts += part.TickReceipts;
            merged.ConnectSeconds = Math.Max(merged.ConnectSeconds, part.ConnectSeconds);
            merged.CpuSeconds += part.CpuSeconds;
            merged.LimitMessage ??= part.LimitMessage;
            foreach (var (error, count) in part.Errors)
            {
                merged.Errors[error] = merged.Errors.GetValueOrDefault(error) + count;
            }

            DecodeInto(part.JoinLatency, join);
            DecodeInto(part.TickLatency, tick);
            if (part.LastVersion >= merged.LastVersion)
            {
                merged.LastVersion = part.LastVersion;
                merged.LastPayload = part.LastPayload;
            }
        }

        merged.JoinLatency = Encode(join);
        merged.TickLatency = Encode(tick);
        return merged;
    }
}

/// <summary>What a group of subscribers does: how many, which topic, how fast they join.</summary>
/// <param name="Topic">The <c>event:&lt;id&gt;</c> topic every socket joins.</param>
/// <param name="Count">Sockets in this group.</param>
/// <param name="JoinRate">Joins per second; 0 joins as fast as the server answers (64 in flight).</param>
/// <param name="IndexOffset">First global subscriber index (spreads source addresses over workers).</param>
/// <param name="KeepLastBroadcast">Keep the payload of the highest-version broadcast (flood's exactness check).</param>
internal sealed record GroupSpec(string Topic, int Count, double JoinRate, int IndexOffset, bool KeepLastBroadcast);

/// <summary>Subscribers held in this process or spread over worker processes.</summary>
internal interface ISubscriberGroup : IAsyncDisposable
{
    /// <summary>Connects and joins every socket; returns when all have been answered or failed.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Tells subscribers that notification <c>tick-&lt;sequence&gt;</c> was sent at <paramref name="sentAt"/> (Stopwatch ticks, CLOCK_MONOTONIC, the same in every process).</summary>
    void AnnounceTick(int sequence, long sentAt);

    /// <summary>Joined sockets so far (this process only; workers report at the end).</summary>
    int JoinedSoFar { get; }

    /// <summary>Closes every socket and returns what was seen.</summary>
    Task<GroupResult> StopAsync();
}
