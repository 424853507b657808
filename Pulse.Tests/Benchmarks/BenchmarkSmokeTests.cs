using Pulse.Benchmarks;

namespace Pulse.Tests.Benchmarks;

/// <summary>
/// Keeps Pulse.Benchmarks honest without BenchmarkDotNet: each benchmark is called as a plain method
/// and its result checked, and the frame paths are held to 0 bytes allocated. Allocation is counted
/// by the runtime per thread and is deterministic, unlike time, so it can be asserted here.
/// </summary>
[Trait("Category", "unit")] public class BenchmarkSmokeTests
{
    // Enough calls that a single stray allocation per call (≥ 24 bytes) shows up as ≥ 24,000 bytes.
    private const int WarmCalls = 1_000;

    [Theory]
    [InlineData(100)]
    [InlineData(16 * 1024)]
    public void FrameRead_MaskedTextFrame_ReadsWholePayloadWithoutAllocating(int payloadBytes)
    {
        using var benchmark = new FrameBenchmarks { PayloadBytes = payloadBytes };
        benchmark.Setup();

        Assert.Equal(payloadBytes, benchmark.Read());
        Assert.Equal(0, AllocatedBytes(() => benchmark.Read()));
    }

    [Theory]
    [InlineData(100, 2)]
    [InlineData(16 * 1024, 4)]
    public void FrameWrite_ReusedBuffer_WritesHeaderAndPayloadWithoutAllocating(int payloadBytes, int headerBytes)
    {
        using var benchmark = new FrameBenchmarks { PayloadBytes = payloadBytes };
        benchmark.Setup();

        Assert.Equal(headerBytes + payloadBytes, benchmark.Write());
        Assert.Equal(0, AllocatedBytes(() => benchmark.Write()));
        Assert.Equal(headerBytes + payloadBytes, benchmark.PreEncodeShared());
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1024)]
    [InlineData(64 * 1024)]
    public void Unmask_AnyLength_AllocatesNothing(int bytes)
    {
        var benchmark = new MaskingBenchmarks { Bytes = bytes };
        benchmark.Setup();

        Assert.Equal(bytes % 4, benchmark.Unmask());
        Assert.Equal(0, AllocatedBytes(() => benchmark.Unmask()));
    }

    [Fact]
    public void PhoenixDecode_JoinAndHeartbeat_GiveTopicAndEvent()
    {
        var benchmark = new PhoenixBenchmarks();
        benchmark.Setup();

        Assert.Equal(BenchmarkData.Topic, benchmark.DecodeJoin());
        Assert.Equal("heartbeat", benchmark.DecodeHeartbeat());
    }

    [Fact]
    public void PhoenixEncode_Broadcast_IsTheEnvelopeAroundTheViewModelWithoutAllocating()
    {
        var benchmark = new PhoenixBenchmarks();
        benchmark.Setup();

        // [null,null,"<topic>","update",<view model>]: 24 bytes of envelope, the topic, the view model.
        int envelope = """[null,null,"","update",]""".Length + BenchmarkData.Topic.Length;
        Assert.Equal(envelope + BenchmarkData.ViewModelJson().Length, benchmark.EncodeBroadcast());
        Assert.Equal(0, AllocatedBytes(() => benchmark.EncodeBroadcast()));
    }

    [Fact]
    public void ViewModel_TwoHourThreeSidedBattle_IsAboutFifteenKilobytesOfValidJson()
    {
        var benchmark = new ViewModelBenchmarks();
        benchmark.Setup();
        var json = BenchmarkData.ViewModelJson();

        using var document = JsonDocument.Parse(json);
        var queries = document.RootElement.GetProperty("queries");
        Assert.Equal(3, queries.GetArrayLength());
        Assert.All(queries.EnumerateArray(), q => Assert.Equal(BenchmarkData.PointsPerSide, q.GetProperty("time_series").GetArrayLength()));
        Assert.Equal(json.Length, benchmark.Serialize());

        // docs/design.md §5 says "about 15 KB"; 360 points of ~44 bytes each are the bulk of it.
        Assert.InRange(json.Length, 13_000, 18_000);
    }

    [Fact]
    public void ViewModel_Serialize_SizesItsBufferOnceAndCopiesOnce()
    {
        var benchmark = new ViewModelBenchmarks();
        benchmark.Setup();
        int jsonBytes = benchmark.Serialize();

        // The working buffer (sized up front, about 1.1× the JSON), the returned copy (1×) and the
        // writer; a buffer that had to grow would add 2× more.
        const int Calls = 10;
        long perCall = AllocatedBytes(() => benchmark.Serialize(), Calls) / Calls;
        Assert.InRange(perCall, 2 * jsonBytes, (5 * jsonBytes) / 2);
    }

    [Fact]
    public void FanOut_TenThousandSubscribers_EveryOneGetsTheSameFrame()
    {
        var benchmark = new FanOutBenchmarks();
        benchmark.Setup();

        Assert.Equal(FanOutBenchmarks.Subscribers, benchmark.Publish());
        var frame = benchmark.LastOffered(0);
        Assert.NotNull(frame);
        Assert.Same(frame, benchmark.LastOffered(FanOutBenchmarks.Subscribers - 1));
        Assert.Equal(1, benchmark.OffersTo(FanOutBenchmarks.Subscribers / 2));
        Assert.Equal(FanOutBenchmarks.Subscribers, benchmark.OfferOnly());
    }

    [Fact]
    public void FanOut_OfferToTenThousand_AllocatesNothing()
    {
        var benchmark = new FanOutBenchmarks();
        benchmark.Setup();

        Assert.Equal(0, AllocatedBytes(() => benchmark.OfferOnly(), calls: 20));
    }

    [Fact]
    public void FanOut_Publish_AllocatesTheOneSharedFrameAndNothingPerSubscriber()
    {
        var benchmark = new FanOutBenchmarks();
        benchmark.Setup();
        benchmark.Publish();
        int frameBytes = benchmark.LastOffered(0)!.Bytes.Length;

        const int Publishes = 20;
        long perPublish = AllocatedBytes(() => benchmark.Publish(), Publishes) / Publishes;

        // The frame array (frame + 24-byte array header, rounded) and its 24-byte SharedFrame holder;
        // one reference per subscriber would already be 80,000 bytes.
        Assert.InRange(perPublish, frameBytes, frameBytes + 128);
    }

    /// <summary>
    /// Bytes allocated on this thread by <paramref name="calls"/> warm calls (one call first, to warm pools).
    /// Generic, so an <c>int</c> result is not boxed into the count.
    /// </summary>
    private static long AllocatedBytes<T>(Func<T> call, int calls = WarmCalls)
    {
        call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
