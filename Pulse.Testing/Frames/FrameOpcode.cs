namespace Pulse.Testing.Frames;

/// <summary>RFC 6455 §5.2 opcodes, as bytes: a hostile peer also sends the reserved ones.</summary>
internal static class FrameOpcode
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    /// <summary>The FIN bit of the first byte (§5.2).</summary>
    public const byte Fin = 0x80;
}
