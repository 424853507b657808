namespace Pulse.Phoenix;

/// <summary>
/// Phoenix channel limits, taken from the <c>WebSocket</c> configuration section (validated with the
/// rest of the configuration by <c>PulseOptionsValidator</c>).
/// </summary>
internal sealed class PhoenixOptions
{
    /// <summary>
    /// <c>WebSocket:MaxTopicsPerSocket</c>, default 100: joined topics one socket may hold; one more
    /// join is answered <c>too many channels joined</c>. Bounds what one socket can make the hub hold.
    /// </summary>
    public int MaxTopicsPerSocket { get; set; } = 100;
}
