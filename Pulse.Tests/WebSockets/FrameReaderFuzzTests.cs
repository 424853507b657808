using System.Buffers;
using CsCheck;

namespace Pulse.Tests.WebSockets;

[Trait("Category", "unit")] public sealed class FrameReaderFuzzTests
{
    private const int Limit = 1024;

    // Rounding up in ArrayPool (×2), one growth copy (×2) and exception objects with stack traces.
    private const long AllocationBound = (4 * Limit) + (32 * 1024);

    [Fact]
    public void TryRead_RandomBytes_OnlyProtocolExceptionAndBoundedAllocation()
    {
        Gen.Byte.Array[0, 300].Sample(Check, iter: 5_000);
    }

    [Fact]
    public void TryRead_MutatedValidFrames_OnlyProtocolExceptionAndBoundedAllocation()
    {
        var valid = Gen.Select(Gen.Byte[0, 0x8A], Gen.Byte.Array[0, 200], (b0, payload) => ClientFrames.Build(b0, payload));
        var mutated = Gen.Select(valid.Array[1, 4], Gen.Int[0, 1000].Array[0, 6], Gen.Byte.Array[6], (frames, positions, values) =>
        {
            var bytes = ClientFrames.Concat(frames);
            for (int i = 0; i < positions.Length && bytes.Length > 0; i++)
            {
                bytes[positions[i] % bytes.Length] = values[i]; // flips lengths, opcodes, bits, masks alike
            }

            return bytes;
        });
        mutated.Sample(Check, iter: 5_000);
    }

    private static void Check(byte[] input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var reader = new FrameReader(Limit))
        {
            try
            {
                var buffer = new ReadOnlySequence<byte>(input);
                int events = 0;
                while (events++ < 1000 && reader.TryRead(ref buffer, out _))
                {
                }
            }
            catch (WebSocketProtocolException)
            {
                // The one exception the reader may throw.
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationBound, $"{allocated} bytes allocated for {input.Length} input bytes");
    }
}
