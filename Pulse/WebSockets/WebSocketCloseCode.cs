namespace Pulse.WebSockets;

/// <summary>Close status codes, RFC 6455 §7.4.1, and the rule of which ones may travel in a Close frame.</summary>
internal static class WebSocketCloseCode
{
    public const ushort NormalClosure = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort UnsupportedData = 1003;

    /// <summary>"Reserved … MUST NOT be set as a status code in a Close control frame": no code was present.</summary>
    public const ushort NoStatusReceived = 1005;

    public const ushort InvalidPayloadData = 1007;
    public const ushort PolicyViolation = 1008;
    public const ushort MessageTooBig = 1009;
    public const ushort InternalError = 1011;

    /// <summary>
    /// Whether a peer may send <paramref name="code"/> in a Close frame (RFC 6455 §7.4.1, §7.4.2 and the
    /// IANA registry): 1000–1003, 1007–1011 and 1012–1014 (registered later: restart, try again, bad gateway);
    /// 3000–4999 for libraries and applications. 1004 is reserved, 1005/1006/1015 must never be on the wire,
    /// and everything else below 3000 is unassigned.
    /// </summary>
    public static bool IsValidOnWire(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
