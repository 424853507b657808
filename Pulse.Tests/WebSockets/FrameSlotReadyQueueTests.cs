using System.Diagnostics.Metrics;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// The connection's ready queue of latest-only slots, as the peer sees it: which broadcast frames reach
/// the socket, how often, in which order, and where they stand against the join replies. The output pipe
/// pauses the writer at 1 unread byte, so "the writer is busy" is exact: while the test has not read, the
/// writer waits on its flush and every offer meanwhile only queues.
/// </summary>
[Trait("Category", "unit")] public sealed class FrameSlotReadyQueueTests
{
    // Long enough for a scheduled writer to run on a busy 2-core machine; used only to show that nothing more comes.
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ReadySlots_OffersOnSomeWhileWriterBusy_EachNewestFrameWrittenOnceInReadyOrder()
    {
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPauseBytes: 1, c => new CountingEcho(c));
        var slots = await OpenSlotsAsync(socket, 10);
        await BlockWriterAsync(socket);

        // Ready order 5, 2, 7; slot 2 gets a newer frame while queued (it keeps its place), slot 5 too.
        slots[5].Offer(Frame("slot5 v1", 1));
        slots[2].Offer(Frame("slot2 v1", 1));
        slots[7].Offer(Frame("slot7 v1", 1));
        slots[2].Offer(Frame("slot2 v2", 2));
        slots[5].Offer(Frame("slot5 v2", 2));

        var frames = await socket.ReadFramesAsync(4);
        Assert.Equal(["block", "slot5 v2", "slot2 v2", "slot7 v1"], Texts(frames));
        await Task.Delay(Quiet);
        Assert.Equal(0, socket.UnreadOutputBytes());
    }

    [Fact]
    public async Task ReadySlot_OffersRacingTheWritersTake_LastFrameOfEveryRoundArrives()
    {
        // A pipe that does not pause, and offers without a break while the writer takes: each round stops
        // them at an arbitrary point of the writer's pass, so over the rounds the last offer lands before,
        // during and after a take. A lost wake-up shows as a round whose last frame never comes (latest-only
        // hides any earlier loss); duplicates or reordering show as versions that do not increase. A stress
        // test: a slot whose flag is never cleared or never set again fails at once; the narrow race (the
        // flag cleared after the take instead of before) failed about every second run here, in ~3 s.
        const int Rounds = 3000;
        const int FramesPerRound = 2;
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPauseBytes: 1024 * 1024, c => new CountingEcho(c));
        var slot = (await OpenSlotsAsync(socket, 1))[0];

        long lastSeen = 0;
        long next = 0;
        for (int round = 0; round < Rounds; round++)
        {
            using var stop = new CancellationTokenSource();
            var offers = Task.Run(() =>
            {
                do
                {
                    next++;
                    slot.Offer(Frame($"{next}", next));
                }
                while (!stop.IsCancellationRequested);
                return next;
            });

            for (int i = 0; i < FramesPerRound; i++)
            {
                lastSeen = await ReadNewerAsync(socket, lastSeen, round);
            }

            stop.Cancel();
            long last = await offers;
            while (lastSeen < last)
            {
                lastSeen = await ReadNewerAsync(socket, lastSeen, round);
            }
        }

        await Task.Delay(Quiet);
        Assert.Equal(0, socket.UnreadOutputBytes());
    }

    [Fact]
    public async Task ReadySlots_OffersThatQueueAndOffersThatReplace_AllocateNothing()
    {
        // The hub offers on its own thread to every subscriber (up to 19,000 sockets): neither the offer
        // that queues a slot nor one that replaces a queued frame may allocate. Measured on this thread,
        // with the writer waiting on its flush (its own work runs on the thread pool).
        const int Slots = 10;
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPauseBytes: 1, c => new CountingEcho(c));
        var slots = await OpenSlotsAsync(socket, Slots);
        var frames = Enumerable.Range(0, 100).Select(v => Frame($"v{v}", v + 1)).ToArray();

        // Warm: every slot queued once, so the ready queue has grown to hold them all.
        await BlockWriterAsync(socket);
        Array.ForEach(slots, slot => slot.Offer(frames[0]));
        Assert.Equal(Slots + 1, (await socket.ReadFramesAsync(Slots + 1)).Count);
        await BlockWriterAsync(socket);

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var frame in frames)
        {
            foreach (var slot in slots)
            {
                slot.Offer(frame);
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        var written = await socket.ReadFramesAsync(Slots + 1);
        Assert.Equal(["block", .. Enumerable.Repeat("v99", Slots)], Texts(written));
    }

    [Fact]
    public async Task ReadySlot_DisposedWhileQueued_WritesNothing()
    {
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPauseBytes: 1, c => new CountingEcho(c));
        var slots = await OpenSlotsAsync(socket, 3);
        await BlockWriterAsync(socket);

        slots[0].Offer(Frame("slot0", 1));
        slots[1].Offer(Frame("slot1", 1));
        slots[2].Offer(Frame("slot2", 1));
        slots[0].Dispose();

        // And an offer after Dispose (a publish that copied the subscribers before the leave) does nothing.
        slots[1].Dispose();
        slots[1].Offer(Frame("slot1 late", 2));

        var frames = await socket.ReadFramesAsync(2);
        Assert.Equal(["block", "slot2"], Texts(frames));
        await Task.Delay(Quiet);
        Assert.Equal(0, socket.UnreadOutputBytes());
    }

    [Theory]
    [InlineData(4, true)]
    [InlineData(5, false)]
    [InlineData(6, false)]
    public async Task ClosedSlot_OfferedBeforeItsJoinReply_FollowsTheReplyOnlyWhenNewer(long replyVersion, bool expectFrame)
    {
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPauseBytes: 1, c => new CountingEcho(c));
        using var skipped = new SkippedFrames(socket.Metrics);
        var slot = socket.Connection.CreateSlot();

        // Published while the join reads its snapshot: kept, but nothing leaves a closed slot.
        slot.Offer(Frame("broadcast v5", 5));
        socket.Connection.SendText("before"u8);
        Assert.Equal(["before"], Texts(await socket.ReadFramesAsync(1)));
        await Task.Delay(Quiet);
        Assert.Equal(0, socket.UnreadOutputBytes());

        socket.Connection.SendJoinReply(slot, "reply"u8, replyVersion);

        if (expectFrame)
        {
            Assert.Equal(["reply", "broadcast v5"], Texts(await socket.ReadFramesAsync(2)));
            Assert.Equal(0, skipped.Count);
        }
        else
        {
            // The reply already carries these numbers or newer: dropped, and counted as skipped.
            Assert.Equal(["reply"], Texts(await socket.ReadFramesAsync(1)));
            Assert.True(await Pipeline.PipelineKit.EventuallyAsync(() => skipped.Count == 1, TimeSpan.FromSeconds(5)), $"skipped {skipped.Count}");
        }

        await Task.Delay(Quiet);
        Assert.Equal(0, socket.UnreadOutputBytes());
    }

    /// <summary>Creates <paramref name="count"/> slots and opens each with a join reply, which the test reads.</summary>
    private static async Task<FrameSlot[]> OpenSlotsAsync(InMemorySocket socket, int count)
    {
        var slots = new FrameSlot[count];
        for (int i = 0; i < count; i++)
        {
            slots[i] = socket.Connection.CreateSlot();
            socket.Connection.SendJoinReply(slots[i], Encoding.UTF8.GetBytes($"reply{i}"), 0);
        }

        var replies = await socket.ReadFramesAsync(count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"reply{i}"), Texts(replies));
        return slots;
    }

    /// <summary>Reads one frame; its version (its text) must be newer than <paramref name="lastSeen"/>.</summary>
    private static async Task<long> ReadNewerAsync(InMemorySocket socket, long lastSeen, int round)
    {
        var frame = Assert.Single(await socket.ReadFramesAsync(1, TimeSpan.FromSeconds(5)));
        long version = long.Parse(Encoding.UTF8.GetString(frame.Payload));
        Assert.True(version > lastSeen, $"round {round}: version {version} after {lastSeen}");
        return version;
    }

    /// <summary>Leaves one reply unread: the writer's flush stays pending until the test reads again.</summary>
    private static async Task BlockWriterAsync(InMemorySocket socket)
    {
        // "Blocked" only with bytes unread in the pipe: a flush of frames the test has just read may still
        // be flagged pending for a moment.
        socket.Connection.SendText("block"u8);
        Assert.True(
            await Pipeline.PipelineKit.EventuallyAsync(() => socket.UnreadOutputBytes() > 0 && socket.Connection.OutputBlocked, TimeSpan.FromSeconds(5)),
            "the flush never went pending");
    }

    private static SharedFrame Frame(string text, long version) => FrameWriter.EncodeShared(Encoding.UTF8.GetBytes(text), version);

    private static string[] Texts(List<(byte B0, byte[] Payload)> frames)
    {
        Assert.All(frames, f => Assert.Equal(0x81, f.B0));
        return [.. frames.Select(f => Encoding.UTF8.GetString(f.Payload))];
    }

    /// <summary>Counts <c>pulse_frames_skipped_total</c> of one connection's meter.</summary>
    private sealed class SkippedFrames : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public SkippedFrames(PulseMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == PulseMetrics.FramesSkippedTotal)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
