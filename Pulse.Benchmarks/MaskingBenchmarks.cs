using BenchmarkDotNet.Attributes;
using Pulse.WebSockets;

namespace Pulse.Benchmarks;

/// <summary>Unmasking in place (RFC 6455 §5.3): vector, then 4-byte, then single-byte tiers.</summary>
[MemoryDiagnoser]
public class MaskingBenchmarks
{
    private byte[] _data = null!;

    /// <summary>A heartbeat-sized message, a typical one, and the largest a client may send (64 KiB).</summary>
    [Params(16, 1024, 64 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup() => _data = BenchmarkData.TextPayload(Bytes);

    /// <summary>Returns the key offset for the next byte (Bytes mod 4). Applying twice restores the data.</summary>
    [Benchmark]
    public int Unmask() => Masking.Apply(_data, 0x5A_3C_96_E1, 0);
}
