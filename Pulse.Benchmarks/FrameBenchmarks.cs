using System.Buffers;
using BenchmarkDotNet.Attributes;
using Pulse.WebSockets;

namespace Pulse.Benchmarks;

/// <summary>
/// The per-message WebSocket paths: reading one masked client text frame (header, copy, unmask,
/// UTF-8 validation) and writing one server frame into a reused buffer. Both must allocate nothing.
/// Pre-encoding a shared frame allocates its array by design (one per broadcast, not per socket).
/// </summary>
[MemoryDiagnoser]
public class FrameBenchmarks : IDisposable
{
    private FrameReader _reader = null!;
    private byte[] _clientFrame = null!;
    private byte[] _payload = null!;
    private byte[] _destination = null!;

    /// <summary>A small Phoenix message, and a message that needs the 16-bit length and a 16 KiB buffer.</summary>
    [Params(100, 16 * 1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = BenchmarkData.TextPayload(PayloadBytes);
        _clientFrame = BenchmarkData.MaskedClientTextFrame(_payload);
        _destination = new byte[FrameWriter.GetFrameLength(PayloadBytes)];

        // The default WebSocket:MaxMessageBytes (docs/design.md §7).
        _reader = new FrameReader(64 * 1024);
    }

    /// <summary>Returns the reader's pooled buffer (BenchmarkDotNet calls it as the global cleanup).</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _reader?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Returns the payload length read (the pooled message buffer goes back on the next call).</summary>
    [Benchmark]
    public int Read()
    {
        var buffer = new ReadOnlySequence<byte>(_clientFrame);
        return _reader.TryRead(ref buffer, out var opcode) && opcode == Opcode.Text && buffer.IsEmpty
            ? _reader.Payload.Length
            : -1;
    }

    /// <summary>Returns the frame length written.</summary>
    [Benchmark]
    public int Write() => FrameWriter.Write(_destination, Opcode.Text, _payload);

    /// <summary>Returns the encoded frame; allocates exactly one array of the frame's length plus its holder.</summary>
    [Benchmark]
    public int PreEncodeShared() => FrameWriter.EncodeShared(_payload).Bytes.Length;
}
