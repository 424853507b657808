namespace Pulse.WebSockets;

/// <summary>
/// One parsed frame header (RFC 6455 §5.2). No MASK bit: the reader refuses an unmasked client frame
/// (§5.1), so every header it returns is masked.
/// </summary>
/// <param name="Fin">FIN: the final fragment of a message.</param>
/// <param name="Opcode">The frame's opcode.</param>
/// <param name="PayloadLength">The declared payload length, from the 7-, 16- or 64-bit encoding.</param>
/// <param name="MaskKey">The 4 masking-key bytes as they appear on the wire, read in machine order.</param>
/// <param name="HeaderLength">2 to 14 bytes: base, extended length, masking key.</param>
internal readonly record struct FrameHeader(bool Fin, Opcode Opcode, long PayloadLength, uint MaskKey, int HeaderLength)
{
    /// <summary>"Control frames are identified by opcodes where the most significant bit of the opcode is 1" (§5.5).</summary>
    public bool IsControl => ((byte)Opcode & 0x8) != 0;
}
