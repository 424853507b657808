namespace Pulse.Configuration;

/// <summary>The <c>Broadcast</c> configuration section.</summary>
internal sealed class BroadcastOptions
{
    /// <summary>
    /// <c>Broadcast:TickMilliseconds</c>, default 500: the coalescing window. Per event at most one
    /// computation starts per window, so a flood costs at most 1000 / 500 = 2 computations a second.
    /// </summary>
    public int TickMilliseconds { get; set; } = 500;

    /// <summary>
    /// <c>Broadcast:MaxConcurrentComputations</c>, default 4: full reads of different events (first use,
    /// verification, repair; ticks' and readers' alike) that may run at once. Bounds the pooled
    /// connections they hold (keep it below the pool size) while one slow full read still leaves three
    /// slots to the others. Delta reads take no slot: they go one statement at a time (DeltaReads).
    /// </summary>
    public int MaxConcurrentComputations { get; set; } = 4;

    /// <summary>
    /// <c>Broadcast:VerifySeconds</c>, default 60, 0 to 86,400 (0: never): how often a watched event's
    /// incremental counts are compared with a full read of its links, which repairs them and counts the
    /// difference in <c>pulse_count_drift_total</c> (docs/design.md §18). An event is also verified once
    /// after it ends. Each verification costs one full read (about 1 s of one database core at 1,000,000
    /// links), so the period is stretched to 100 times the last full read's duration when that is longer.
    /// </summary>
    public int VerifySeconds { get; set; } = 60;
}
