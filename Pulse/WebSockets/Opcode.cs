namespace Pulse.WebSockets;

/// <summary>Frame opcodes, RFC 6455 §5.2 ("%x3-7 are reserved for further non-control frames", "%xB-F … control frames").</summary>
internal enum Opcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}
