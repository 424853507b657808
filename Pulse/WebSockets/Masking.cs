using System.Numerics;
using System.Runtime.InteropServices;

namespace Pulse.WebSockets;

/// <summary>
/// XOR with the 4-byte masking key (RFC 6455 §5.3: "octet i of the transformed data is the XOR of octet i
/// of the original data with octet at index i modulo 4 of the masking key"), in three tiers: a
/// <see cref="Vector{T}"/> at a time, then 4 bytes, then single bytes.
/// </summary>
internal static class Masking
{
    /// <summary>
    /// Unmasks <paramref name="data"/> in place. <paramref name="offset"/> is the index, modulo 4, of the
    /// key byte that applies to <c>data[0]</c> (non-zero when a frame's payload arrives in pieces);
    /// returns the offset for the byte after <paramref name="data"/>.
    /// </summary>
    public static int Apply(Span<byte> data, uint maskKey, int offset)
    {
        // Rotate the key so that its first byte in memory is key[offset]; every tier below then starts
        // at a multiple of 4 bytes from data[0] and can use the rotated key unchanged.
        uint key = BitConverter.IsLittleEndian
            ? BitOperations.RotateRight(maskKey, offset * 8)
            : BitOperations.RotateLeft(maskKey, offset * 8);

        int i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            // Vector<byte>.Count is a multiple of 4, so the key pattern lines up in every vector.
            var keyVector = Vector.AsVectorByte(new Vector<uint>(key));
            var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(data);
            for (int v = 0; v < vectors.Length; v++)
            {
                vectors[v] ^= keyVector;
            }

            i = vectors.Length * Vector<byte>.Count;
        }

        var words = MemoryMarshal.Cast<byte, uint>(data[i..]);
        for (int w = 0; w < words.Length; w++)
        {
            words[w] ^= key;
        }

        i += words.Length * 4;
        Span<byte> keyBytes = stackalloc byte[4];
        MemoryMarshal.Write(keyBytes, in key);
        for (int b = 0; i < data.Length; i++, b++)
        {
            data[i] ^= keyBytes[b];
        }

        return (offset + data.Length) & 3;
    }
}
