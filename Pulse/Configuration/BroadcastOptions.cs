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
    /// <c>Broadcast:MaxConcurrentComputations</c>, default 4: computations of different events that may
    /// run at once. Bounds the database connections the ticker holds (keep it below the pool size) while
    /// one slow event still leaves three slots to the others.
    /// </summary>
    public int MaxConcurrentComputations { get; set; } = 4;
}
