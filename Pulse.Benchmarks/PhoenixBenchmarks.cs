using System.Buffers;
using BenchmarkDotNet.Attributes;
using Pulse.Phoenix;

namespace Pulse.Benchmarks;

/// <summary>
/// Phoenix V2 messages: decoding what phoenix.js sends most (join, heartbeat) and encoding the
/// broadcast envelope around a 15 KB view model into the per-thread scratch.
/// </summary>
[MemoryDiagnoser]
public class PhoenixBenchmarks
{
    private byte[] _join = null!;
    private byte[] _heartbeat = null!;
    private byte[] _viewModel = null!;

    [GlobalSetup]
    public void Setup()
    {
        _join = BenchmarkData.JoinMessage();
        _heartbeat = BenchmarkData.HeartbeatMessage();
        _viewModel = BenchmarkData.ViewModelJson();
    }

    /// <summary>Returns the decoded topic.</summary>
    [Benchmark]
    public string? DecodeJoin() =>
        PhoenixSerializer.V2.TryDecode(new ReadOnlySequence<byte>(_join), out var message) ? message.Topic : null;

    /// <summary>Returns the decoded event.</summary>
    [Benchmark]
    public string? DecodeHeartbeat() =>
        PhoenixSerializer.V2.TryDecode(new ReadOnlySequence<byte>(_heartbeat), out var message) ? message.Event : null;

    /// <summary>Returns the length of <c>[null,null,topic,"update",&lt;view model&gt;]</c>.</summary>
    [Benchmark]
    public int EncodeBroadcast()
    {
        var writer = JsonScratch.Begin();
        PhoenixSerializer.V2.WriteBroadcast(writer, BenchmarkData.Topic, "update", _viewModel);
        return JsonScratch.End(writer).Length;
    }
}
