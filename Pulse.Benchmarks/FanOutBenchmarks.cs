using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Pulse.Broadcasting;
using Pulse.Diagnostics;
using Pulse.Phoenix;
using Pulse.WebSockets;

namespace Pulse.Benchmarks;

/// <summary>
/// One broadcast to 10,000 subscribers of one event, in memory: <see cref="Hub.Publish"/> (encode
/// once, frame once, offer to every slot) and the offer loop alone over a pre-encoded frame.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    public const int Subscribers = 10_000;

    private Hub _hub = null!;
    private Snapshot _snapshot = null!;
    private LatestOnlySink[] _sinks = null!;
    private SharedFrame _frame = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hub = new Hub(NullLogger<Hub>.Instance, new PulseMetrics());
        _sinks = new LatestOnlySink[Subscribers];
        for (int i = 0; i < _sinks.Length; i++)
        {
            _sinks[i] = new LatestOnlySink();
            _hub.Subscribe(BenchmarkData.Topic, PhoenixVersion.V2, _sinks[i]);
        }

        var json = BenchmarkData.ViewModelJson();
        _snapshot = new Snapshot(Guid.Parse(BenchmarkData.Topic["event:".Length..]), 42, json);
        _frame = FrameWriter.EncodeShared(json);
    }

    /// <summary>Returns the number of subscribers offered. Allocates the one shared frame, nothing per subscriber.</summary>
    [Benchmark]
    public int Publish() => _hub.Publish(BenchmarkData.Topic, "update", _snapshot);

    /// <summary>Offers a pre-encoded frame to every sink: the per-subscriber part of a publish.</summary>
    [Benchmark]
    public int OfferOnly()
    {
        var frame = _frame;
        foreach (var sink in _sinks)
        {
            sink.Offer(frame);
        }

        return _sinks.Length;
    }

    /// <summary>The last frame offered to sink <paramref name="index"/>, for the smoke tests.</summary>
    internal SharedFrame? LastOffered(int index) => _sinks[index].Pending;

    internal long OffersTo(int index) => _sinks[index].Offers;

    /// <summary>
    /// What <see cref="FrameSlot"/> does without a socket: swap in the newest frame (latest-only).
    /// A real slot also schedules its connection's writer, which needs a Kestrel connection.
    /// </summary>
    private sealed class LatestOnlySink : IFrameSink
    {
        private SharedFrame? _pending;

        public SharedFrame? Pending => Volatile.Read(ref _pending);

        public long Offers { get; private set; }

        public void Offer(SharedFrame frame)
        {
            Interlocked.Exchange(ref _pending, frame);
            Offers++;
        }

        public void Dispose() => Interlocked.Exchange(ref _pending, null);
    }
}
