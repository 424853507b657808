namespace Pulse.Phoenix;

/// <summary>Phoenix channel limits, bound from the <c>WebSocket</c> configuration section.</summary>
internal sealed class PhoenixOptions
{
    public const string SectionName = "WebSocket";

    /// <summary>
    /// <c>WebSocket:MaxTopicsPerSocket</c>, default 100: joined topics one socket may hold; one more
    /// join is answered <c>too many channels joined</c>. Bounds what one socket can make the hub hold.
    /// </summary>
    public int MaxTopicsPerSocket { get; set; } = 100;

    /// <summary>The first invalid key with the reason, or <c>null</c> when all are valid.</summary>
    public string? Validate() =>
        MaxTopicsPerSocket < 1 ? $"{SectionName}:{nameof(MaxTopicsPerSocket)} must be at least 1" : null;
}
