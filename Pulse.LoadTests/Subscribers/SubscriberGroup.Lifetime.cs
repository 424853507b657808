using System.Diagnostics;
using Pulse.LoadTests.Runner;
using Pulse.Testing.Phoenix;
using Pulse.Testing.Processes;
using Pulse.Testing.Raw;

namespace Pulse.LoadTests.Subscribers;

internal sealed partial class SubscriberGroup
{
    public async Task<GroupResult> StopAsync()
    {
        await _stopping.CancelAsync();
        if (_heartbeat is not null)
        {
            await _heartbeat;
        }

        while (_early.TryDequeue(out var early))
        {
            long sentAt = Volatile.Read(ref _tickSentAt[early.Sequence]);
            if (sentAt != 0)
            {
                RecordTick(sentAt, early.ReceivedAt);
            }
        }

        int dropped = _sockets.Count(s => s is { IsClosed: true });
        foreach (RawClient? socket in _sockets)
        {
            if (socket is { Failure: { } failure })
            {
                _errors.AddOrUpdate("socket closed by error: " + failure, 1, (_, n) => n + 1);
            }
        }

        // Close in batches of 256 so the server is not hit by every FIN in the same millisecond.
        foreach (RawClient?[] batch in _sockets.Chunk(256))
        {
            await Task.WhenAll(batch.Where(s => s is not null).Select(s => s!.CloseAsync()));
        }

        return new GroupResult
        {
            Joined = JoinedSoFar,
            JoinFailed = Volatile.Read(ref _joinFailed),
            Dropped = dropped,
            Broadcasts = BroadcastsSoFar,
            TickReceipts = Interlocked.Read(ref _tickReceipts),
            ConnectSeconds = _connectSeconds,
            CpuSeconds = ProcessSample.SelfCpu().TotalSeconds,
            LimitMessage = _limitMessage,
            Errors = new Dictionary<string, int>(_errors),
            JoinLatency = GroupResult.Encode(_joinLatency),
            TickLatency = GroupResult.Encode(_tickLatency),
            LastVersion = _lastVersion,
            LastPayload = _lastPayload,
            MinLastVersion = MinLastVersion(),
        };
    }

    /// <summary>The lowest last broadcast version over the sockets that connected (0 when one received none).</summary>
    private long MinLastVersion()
    {
        long min = long.MaxValue;
        for (int i = 0; i < _lastVersionBySocket.Length; i++)
        {
            if (_sockets[i] is not null)
            {
                min = Math.Min(min, Volatile.Read(ref _lastVersionBySocket[i]));
            }
        }

        return min == long.MaxValue ? 0 : min;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (RawClient? socket in _sockets)
        {
            socket?.Dispose();
        }

        await _stopping.CancelAsync();
        _stopping.Dispose();
    }
}
