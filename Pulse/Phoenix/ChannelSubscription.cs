using Pulse.WebSockets;

namespace Pulse.Phoenix;

/// <summary>
/// One joined topic on one socket, and the only record of it: the socket's latest-only slot
/// (<see cref="Slot"/>), the join ref its <c>phx_close</c> carries, the serializer the hub encodes its
/// frames with, and its place in the hub topic. Registered in the <see cref="HubTopic"/> (fan-out) and
/// owned by the <see cref="PhoenixChannelSession"/> (leave, rejoin, socket closed).
/// </summary>
/// <remarks>
/// <see cref="Dispose"/> is the one way a join ends, and idempotent: it leaves the hub topic first, so no
/// new frame is offered to the slot it then disposes (a publish that copied the subscribers just before
/// may still offer one; the disposed slot drops it).
/// </remarks>
internal sealed class ChannelSubscription(Hub hub, string topic, string? joinRef, PhoenixVersion version, IFrameSink slot) : IDisposable
{
    private HubTopic? _topic;
    private int _disposed;

    /// <summary>The lower-case topic.</summary>
    public string Topic { get; } = topic;

    /// <summary>The join's <c>join_ref</c>, echoed by the <c>phx_close</c> that ends it.</summary>
    public string? JoinRef { get; } = joinRef;

    public PhoenixVersion Version { get; } = version;

    /// <summary>The socket's latest-only slot for this topic's broadcasts.</summary>
    public IFrameSink Slot { get; } = slot;

    /// <summary>Position in the topic's array; written only under the topic's lock; −1 once removed.</summary>
    internal int Index { get; set; } = -1;

    internal void Attach(HubTopic topic, int index)
    {
        _topic = topic;
        Index = index;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_topic is { } topic)
        {
            hub.Unsubscribe(topic, this);
        }

        Slot.Dispose();
    }
}
