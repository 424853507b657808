using System.Buffers;

namespace Pulse.Tests.Phoenix;

/// <summary>In-memory doubles of our own seams: the transport and the snapshot provider.</summary>
internal sealed class RecordingTransport : IChannelTransport
{
    public List<string> Sent { get; } = [];

    public List<RecordingSink> Slots { get; } = [];

    public string ConnectionId => "test";

    public void SendText(ReadOnlySpan<byte> utf8Payload) => Sent.Add(Encoding.UTF8.GetString(utf8Payload));

    public IFrameSink CreateSlot()
    {
        var slot = new RecordingSink();
        Slots.Add(slot);
        return slot;
    }

    public void SendJoinReply(IFrameSink slot, ReadOnlySpan<byte> utf8Payload, long snapshotVersion)
    {
        SendText(utf8Payload);
        ((RecordingSink)slot).OpenedAfter = snapshotVersion;
    }

    public void Close(ushort code, string reason) => throw new InvalidOperationException("the session never closes the socket");
}

internal sealed class RecordingSink : IFrameSink
{
    public List<SharedFrame> Offers { get; } = [];

    public bool Disposed { get; private set; }

    /// <summary>The snapshot version of the join reply that opened the slot; null while closed.</summary>
    public long? OpenedAfter { get; set; }

    public void Offer(SharedFrame frame)
    {
        if (!Disposed)
        {
            Offers.Add(frame);
        }
    }

    public void Dispose() => Disposed = true;
}

internal sealed class FakeSnapshots : ISnapshotProvider
{
    private readonly Dictionary<Guid, Snapshot> _snapshots = [];

    public int Calls { get; private set; }

    public Exception? Failure { get; set; }

    public Snapshot Add(Guid id, string json)
    {
        var snapshot = new Snapshot(id, 1, Encoding.UTF8.GetBytes(json));
        _snapshots[id] = snapshot;
        return snapshot;
    }

    public ValueTask<Snapshot?> GetAsync(Guid eventId, CancellationToken cancellationToken)
    {
        Calls++;
        if (Failure is not null)
        {
            return ValueTask.FromException<Snapshot?>(Failure);
        }

        return ValueTask.FromResult(_snapshots.GetValueOrDefault(eventId));
    }
}

internal static class PhoenixTestKit
{
    public static Hub NewHub(PulseMetrics? metrics = null) => new(NullLogger<Hub>.Instance, metrics ?? new PulseMetrics());

    public static ReadOnlySequence<byte> Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The same bytes split into one segment per byte: the multi-segment path.</summary>
    public static ReadOnlySequence<byte> Fragmented(string text) => Infrastructure.Sequences.Segmented(Encoding.UTF8.GetBytes(text), 1);
}
