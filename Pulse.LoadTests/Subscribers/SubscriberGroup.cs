using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Runner;
using Pulse.Testing.Phoenix;
using Pulse.Testing.Raw;

namespace Pulse.LoadTests.Subscribers;

/// <summary>
/// Holds <see cref="GroupSpec.Count"/> joined Phoenix sockets in this process, times their
/// joins and the delivery of every announced tick.
/// </summary>
/// <remarks>Thread safety: message callbacks run on socket threads; counters are interlocked.</remarks>
internal sealed partial class SubscriberGroup(GroupSpec spec, IPEndPoint server, string hostHeader, SourceAddresses sources)
    : ISubscriberGroup
{
    /// <summary>Bounds the ticks a run can announce: an hour at one a second is 3,600.</summary>
    private const int MaxTicks = 8192;
    private const string JoinRef = "1";
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>--upgrade-after-request</c>: a <c>GET /healthz</c> (answered and read) before each upgrade, on the same
    /// connection, as nginx's kept-alive upstream connections bring them. Set once at start-up.
    /// </summary>
    public static bool UpgradeAfterRequest { get; set; }

    private readonly RawClient?[] _sockets = new RawClient?[spec.Count];
    private readonly TaskCompletionSource<bool>?[] _joinWaiters = new TaskCompletionSource<bool>?[spec.Count];
    private readonly long[] _joinSentAt = new long[spec.Count];
    /// <summary>Per socket, the highest broadcast version it received (KeepLastBroadcast only).</summary>
    private readonly long[] _lastVersionBySocket = new long[spec.KeepLastBroadcast ? spec.Count : 0];
    private readonly long[] _tickSentAt = new long[MaxTicks];
    /// <summary>Receipts that arrived before their tick's send time was announced (another process's stdin may lag).</summary>
    private readonly ConcurrentQueue<(int Sequence, long ReceivedAt)> _early = new();
    private readonly HdrHistogram.LongConcurrentHistogram _joinLatency = ScenarioStats.NewHistogram();
    private readonly HdrHistogram.LongConcurrentHistogram _tickLatency = ScenarioStats.NewHistogram();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lastGate = new();
    private int _joined;
    private int _joinFailed;
    private long _broadcasts;
    private long _tickReceipts;
    private long _lastVersion;
    private string? _lastPayload;
    private volatile string? _limitMessage;
    private double _connectSeconds;
    private Task? _heartbeat;

    public int JoinedSoFar => Volatile.Read(ref _joined);

    public long BroadcastsSoFar => Interlocked.Read(ref _broadcasts);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        // "As fast as possible" is still paced by 64 joins in flight, so the server sees a queue, not a wall.
        double rate = spec.JoinRate > 0 ? spec.JoinRate : 1_000_000;
        int inFlight = spec.JoinRate > 0 ? 1024 : 64;
        await LoadSimulation.InjectAsync(rate, TimeSpan.FromSeconds(spec.Count / rate), inFlight,
            (i, ct) => JoinOneAsync((int)i, ct), cancellationToken);
        _connectSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _heartbeat = Heartbeats.RunAsync(_sockets, _stopping.Token);
    }

    public void AnnounceTick(int sequence, long sentAt)
    {
        if ((uint)sequence < MaxTicks)
        {
            Volatile.Write(ref _tickSentAt[sequence], sentAt);
        }
    }

    private async Task JoinOneAsync(int i, CancellationToken cancellationToken)
    {
        if (_limitMessage is not null)
        {
            Fail("not attempted: an earlier socket hit a limit");
            return;
        }

        int global = spec.IndexOffset + i;
        var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _joinWaiters[i] = waiter;
        try
        {
            _joinSentAt[i] = Stopwatch.GetTimestamp();
            RawClient socket = await RawClient.ConnectAsync(server, new RawClientOptions { Source = sources.For(global) }, i, cancellationToken);
            _sockets[i] = socket;
            await socket.UpgradeAsync(host: hostHeader, plainRequestFirst: UpgradeAfterRequest, cancellationToken: cancellationToken);
            socket.StartReceiving(OnMessage);
            await socket.SendTextAsync(PhoenixV2Codec.EncodeText(JoinRef, JoinRef, spec.Topic, "phx_join"), cancellationToken);
            if (await waiter.Task.WaitAsync(JoinTimeout, cancellationToken))
            {
                Interlocked.Increment(ref _joined);
            }
            else
            {
                Fail("join refused");
            }
        }
        catch (TimeoutException)
        {
            Fail("join not answered within 10 s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            string? limit = SocketLimits.Describe(ex);
            if (SocketLimits.StopsTheRun(ex))
            {
                _limitMessage ??= limit;
            }

            Fail(limit ?? ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            _joinWaiters[i] = null;
        }
    }

    private void Fail(string reason)
    {
        Interlocked.Increment(ref _joinFailed);
        _errors.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    private void OnMessage(RawClient socket, PhoenixV2Fields message, long receivedAt)
    {
        if (message.Event == "phx_reply")
        {
            if (message.Ref == JoinRef && _joinWaiters[socket.Index] is { } waiter)
            {
                bool ok = message.Status == "ok";
                if (ok)
                {
                    _joinLatency.RecordValue(Micros(_joinSentAt[socket.Index], receivedAt));
                }

                waiter.TrySetResult(ok);
            }

            return;
        }

        if (message.Topic != spec.Topic || message.Event is null || message.Event.StartsWith("phx_", StringComparison.Ordinal))
        {
            return;
        }

        Interlocked.Increment(ref _broadcasts);
        if (spec.KeepLastBroadcast)
        {
            KeepIfNewest(message);
            long seen = Volatile.Read(ref _lastVersionBySocket[socket.Index]);
            if (message.Version > seen)
            {
                Volatile.Write(ref _lastVersionBySocket[socket.Index], message.Version);
            }
        }

        if (message.Event.StartsWith("tick-", StringComparison.Ordinal)
            && int.TryParse(message.Event.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int sequence)
            && (uint)sequence < MaxTicks)
        {
            long sentAt = Volatile.Read(ref _tickSentAt[sequence]);
            if (sentAt == 0)
            {
                _early.Enqueue((sequence, receivedAt));
            }
            else
            {
                RecordTick(sentAt, receivedAt);
            }
        }
    }

    private void KeepIfNewest(PhoenixV2Fields message)
    {
        lock (_lastGate)
        {
            if (message.Version >= _lastVersion)
            {
                _lastVersion = message.Version;
                _lastPayload = System.Text.Encoding.UTF8.GetString(message.Payload);
            }
        }
    }

    private void RecordTick(long sentAt, long receivedAt)
    {
        Interlocked.Increment(ref _tickReceipts);
        _tickLatency.RecordValue(Micros(sentAt, receivedAt));
    }

    private static long Micros(long from, long to) =>
        Math.Clamp((long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds, 1, 300_000_000);
}
