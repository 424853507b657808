using Pulse.WebSockets;

namespace Pulse.Broadcasting;

/// <summary>
/// Where the hub offers a subscriber its frames: a socket's latest-only slot for one joined topic
/// (<see cref="FrameSlot"/> behind <c>Phoenix.WebSocketChannelTransport</c>).
/// </summary>
/// <remarks>
/// <see cref="Offer"/> is called from any thread, possibly just after <see cref="IDisposable.Dispose"/>
/// (a publish that copied the subscriber list before the unsubscribe); it must then do nothing.
/// It must not block: one slow socket never delays the others (DESIGN §8).
/// </remarks>
internal interface IFrameSink : IDisposable
{
    void Offer(SharedFrame frame);
}
