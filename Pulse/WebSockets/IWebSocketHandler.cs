using System.Buffers;

namespace Pulse.WebSockets;

/// <summary>
/// The protocol above the transport (Phoenix Channels). The transport owns framing, control
/// frames, UTF-8 validation and the message-size limit; a handler only sees whole text messages.
/// </summary>
/// <remarks>
/// Thread safety: the transport calls <see cref="OnTextMessageAsync"/> and <see cref="OnClosed"/>
/// from the socket's single read loop, one call at a time, never concurrently.
/// </remarks>
internal interface IWebSocketHandler
{
    /// <summary>A complete, UTF-8-validated text message; the buffer is valid only until the returned task completes.</summary>
    ValueTask OnTextMessageAsync(ReadOnlySequence<byte> message);

    /// <summary>The socket is gone (close handshake, abort or server close); called exactly once.</summary>
    void OnClosed();
}

/// <summary>Creates the handler of each upgraded socket; decides on the request before the upgrade.</summary>
internal interface IWebSocketHandlerFactory
{
    /// <summary>
    /// Called before the 101 is sent. Returning <c>false</c> refuses the upgrade with 400 and
    /// <paramref name="error"/> as the JSON error (e.g. an unsupported <c>vsn</c>).
    /// </summary>
    bool TryAccept(in WebSocketRequest request, out string? error);

    IWebSocketHandler Create(WebSocketConnection connection, in WebSocketRequest request);
}

/// <summary>What the upgrade request said that the protocol above cares about.</summary>
internal readonly record struct WebSocketRequest(string Path, string QueryString, string? Origin, string RemoteAddress);
