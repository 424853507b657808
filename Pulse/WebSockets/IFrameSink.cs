namespace Pulse.WebSockets;

/// <summary>
/// A socket's latest-only slot for one stream of shared frames (<see cref="FrameSlot"/>): what the
/// protocol above (the Phoenix hub) offers each subscriber's broadcasts to.
/// </summary>
/// <remarks>
/// <see cref="Offer"/> is called from any thread, possibly just after <see cref="IDisposable.Dispose"/>
/// (a publish that copied the subscriber list before the unsubscribe); it must then do nothing.
/// It must not block: one slow socket never delays the others (docs/design.md §8).
/// </remarks>
internal interface IFrameSink : IDisposable
{
    void Offer(SharedFrame frame);
}
