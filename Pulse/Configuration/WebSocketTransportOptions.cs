namespace Pulse.Configuration;

/// <summary>The transport's settings, bound from the <c>WebSocket</c> configuration section.</summary>
internal sealed class WebSocketTransportOptions
{
    /// <summary>
    /// <c>WebSocket:AllowedOrigins</c>. Empty (the default) accepts any origin. Otherwise a request whose
    /// <c>Origin</c> header is present and not in the list (ordinal, case-insensitive) gets 403; a request
    /// without <c>Origin</c> (not a browser) is accepted.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// <c>WebSocket:HeartbeatTimeoutSeconds</c>, default 60: a socket that sends nothing (no frame of any
    /// kind) for this long is closed with 1000. phoenix.js sends a heartbeat every 30 s, so a live
    /// client misses at most one.
    /// </summary>
    public int HeartbeatTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// <c>WebSocket:MaxMessageBytes</c>, default 65,536: the largest message (all fragments together) a
    /// client may send; a larger declared length closes the socket with 1009 before it is buffered.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 65_536;

    /// <summary>
    /// <c>WebSocket:WriteTimeoutSeconds</c>, default 30: a socket whose output stays blocked (the peer
    /// stopped reading) for this long is aborted; a close frame could not reach it anyway.
    /// </summary>
    public int WriteTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// <c>WebSocket:FileDescriptorReserve</c>, default 256: file descriptors kept free for PostgreSQL,
    /// listeners, files and HTTP requests. When open connections reach the soft <c>RLIMIT_NOFILE</c> less
    /// this reserve, new upgrades are answered 503 while existing sockets carry on. At the limit less half
    /// the reserve, any new connection is closed at once, so that descriptors never run out.
    /// </summary>
    public int FileDescriptorReserve { get; set; } = 256;

    /// <summary>
    /// <c>WebSocket:MaxQueuedReplyBytes</c>, default 1,048,576: replies (and pongs) held for a socket whose
    /// output does not drain (the peer does not read). The server stops reading a peer's messages while
    /// 64 KiB of replies (half this, when lower) wait for it, so a peer that reads is never closed however
    /// much it pipelines; a reply that would take the queue past this while the output is blocked closes
    /// the socket with 1008 instead of growing memory without bound.
    /// </summary>
    public int MaxQueuedReplyBytes { get; set; } = 1_048_576;

    /// <summary>Default 8,192: the largest upgrade request head; a larger one gets 431.</summary>
    public int MaxRequestHeadBytes { get; set; } = 8_192;

    /// <summary>Default 10: the time a new connection has to send its first request head.</summary>
    public int HandshakeTimeoutSeconds { get; set; } = 10;

    /// <summary>Default 5: after the server's Close frame, the time the peer has to answer before the TCP connection is dropped.</summary>
    public int CloseTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Default 100: joined topics per socket; one more is refused with "too many channels joined".
    /// Read by the Phoenix layer; kept here so the whole <c>WebSocket</c> section is one class.
    /// </summary>
    public int MaxTopicsPerSocket { get; set; } = 100;
}
