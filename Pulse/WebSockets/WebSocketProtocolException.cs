namespace Pulse.WebSockets;

/// <summary>
/// The peer broke RFC 6455; the connection must be failed with <see cref="CloseCode"/> (§7.1.7).
/// The one exception type the frame reader throws.
/// </summary>
internal sealed class WebSocketProtocolException : Exception
{
    public WebSocketProtocolException(string message)
        : this(WebSocketCloseCode.ProtocolError, message)
    {
    }

    public WebSocketProtocolException(ushort closeCode, string message)
        : base(message)
    {
        CloseCode = closeCode;
    }

    /// <summary>The status code to send in the server's Close frame.</summary>
    public ushort CloseCode { get; }
}
