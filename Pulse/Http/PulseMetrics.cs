namespace Pulse.Http;

/// <summary>
/// Process-wide counters rendered by <c>GET /metrics</c> (Prometheus text). Plain fields updated
/// with <see cref="Interlocked"/>: a hot path pays one atomic add, no allocation, no lock.
/// </summary>
internal static class PulseMetrics
{
    public static long Connections;            // gauge: open WebSocket connections
    public static long ChannelJoinsTotal;      // successful phx_join replies
    public static long NotificationsTotal;     // notifications taken (POST, LISTEN)
    public static long ComputationsTotal;      // view-model computations run
    public static long BroadcastFramesTotal;   // frames offered to subscribers (one per subscriber)
    public static long FramesSkippedTotal;     // frames replaced in a latest-only slot before being written
    public static long DatabaseErrorsTotal;    // failed database calls

    /// <summary>Computation durations; buckets in seconds.</summary>
    public static readonly Histogram ComputationSeconds = new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
}

/// <summary>A fixed-bucket Prometheus histogram; lock-free.</summary>
internal sealed class Histogram(double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private long _sumMicros;

    public IReadOnlyList<double> Bounds => bounds;

    public void Observe(double seconds)
    {
        int i = 0;
        while (i < bounds.Length && seconds > bounds[i])
        {
            i++;
        }

        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
    }

    /// <summary>Count in bucket <paramref name="index"/> (not cumulative); the last index is +Inf.</summary>
    public long BucketCount(int index) => Volatile.Read(ref _counts[index]);

    public double Sum => Volatile.Read(ref _sumMicros) / 1_000_000.0;
}
