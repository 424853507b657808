using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Pulse.LoadTests.Runner;
using Pulse.LoadTests.Subscribers;
using Pulse.Testing.Phoenix;
using Pulse.Testing.Raw;

namespace Pulse.LoadTests.Scenarios;

/// <summary>
/// One joined Phoenix socket per topic (<c>event:&lt;id&gt;</c>), each keeping its newest broadcast
/// (highest <c>version</c>), and telling <see cref="ProbeReceived"/> of every broadcast named
/// <c>probe-&lt;seq&gt;</c> with its receipt time.
/// </summary>
/// <remarks>Thread safety: messages arrive on socket threads; the newest broadcast of each socket is kept under a lock.</remarks>
internal sealed class NotifySubscribers(IReadOnlyList<string> topics, IPEndPoint server, string hostHeader, SourceAddresses sources)
    : IAsyncDisposable
{
    private const string JoinRef = "1";
    private const string ProbePrefix = "probe-";
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);

    private readonly RawClient?[] _sockets = new RawClient?[topics.Count];
    private readonly TaskCompletionSource<bool>[] _joins = CreateWaiters(topics.Count);
    private readonly (long Version, string? Payload)[] _newest = new (long, string?)[topics.Count];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private long _broadcasts;
    private int _joined;
    private Task? _heartbeat;

    /// <summary>Called on a socket thread for every broadcast named <c>probe-&lt;seq&gt;</c>: (seq, Stopwatch timestamp of receipt).</summary>
    public Action<int, long>? ProbeReceived { get; init; }

    public int Joined => Volatile.Read(ref _joined);

    public long Broadcasts => Interlocked.Read(ref _broadcasts);

    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>Connects and joins every socket (64 at a time); returns when each is answered or failed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadSimulation.InjectAsync(1_000_000, TimeSpan.FromSeconds(topics.Count / 1_000_000.0), 64,
            (i, ct) => JoinOneAsync((int)i, ct), cancellationToken);
        _heartbeat = Heartbeats.RunAsync(_sockets, _stopping.Token);
    }

    /// <summary>The newest broadcast's version and payload of socket <paramref name="index"/> (0 and null before any).</summary>
    public (long Version, string? Payload) Newest(int index)
    {
        lock (_gate)
        {
            return _newest[index];
        }
    }

    /// <summary>Whether socket <paramref name="index"/> is still open.</summary>
    public bool IsOpen(int index) => _sockets[index] is { IsClosed: false };

    private async Task JoinOneAsync(int i, CancellationToken cancellationToken)
    {
        try
        {
            RawClient socket = await RawClient.ConnectAsync(server, new RawClientOptions { Source = sources.For(i) }, i, cancellationToken);
            _sockets[i] = socket;
            await socket.UpgradeAsync(host: hostHeader, cancellationToken: cancellationToken);
            socket.StartReceiving(OnMessage);
            await socket.SendTextAsync(PhoenixV2Codec.EncodeText(JoinRef, JoinRef, topics[i], "phx_join"), cancellationToken);
            if (await _joins[i].Task.WaitAsync(JoinTimeout, cancellationToken))
            {
                Interlocked.Increment(ref _joined);
            }
            else
            {
                Error("join refused");
            }
        }
        catch (TimeoutException)
        {
            Error("join not answered within 10 s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Error(SocketLimits.Describe(ex) ?? ex.GetType().Name + ": " + ex.Message);
        }
    }

    private void Error(string reason) => _errors.AddOrUpdate(reason, 1, (_, n) => n + 1);

    private void OnMessage(RawClient socket, PhoenixV2Fields message, long receivedAt)
    {
        if (message.Event == "phx_reply")
        {
            if (message.Ref == JoinRef)
            {
                bool ok = message.Status == "ok";
                if (ok)
                {
                    KeepSnapshot(socket.Index, message.Payload);
                }

                _joins[socket.Index].TrySetResult(ok);
            }

            return;
        }

        if (message.Topic != topics[socket.Index] || message.Event is null || message.Event.StartsWith("phx_", StringComparison.Ordinal))
        {
            return;
        }

        Interlocked.Increment(ref _broadcasts);
        lock (_gate)
        {
            if (message.Version >= _newest[socket.Index].Version)
            {
                _newest[socket.Index] = (message.Version, System.Text.Encoding.UTF8.GetString(message.Payload));
            }
        }

        if (ProbeReceived is { } probe
            && message.Event.StartsWith(ProbePrefix, StringComparison.Ordinal)
            && int.TryParse(message.Event.AsSpan(ProbePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int sequence))
        {
            probe(sequence, receivedAt);
        }
    }

    /// <summary>The join reply's <c>response.snapshot</c> (docs/design.md §7) is the socket's first view: an event whose numbers never change broadcasts nothing.</summary>
    private void KeepSnapshot(int index, ReadOnlySpan<byte> payload)
    {
        var reader = new System.Text.Json.Utf8JsonReader(payload);
        using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
        if (!document.RootElement.TryGetProperty("response", out var response)
            || !response.TryGetProperty("snapshot", out var snapshot) || snapshot.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return;
        }

        long version = snapshot.TryGetProperty("version", out var v) && v.TryGetInt64(out long parsed) ? parsed : 0;
        lock (_gate)
        {
            if (version >= _newest[index].Version)
            {
                _newest[index] = (version, snapshot.GetRawText());
            }
        }
    }

    /// <summary>Stops the heartbeat and closes every socket (256 at a time).</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_heartbeat is not null)
        {
            await _heartbeat;
        }

        foreach (RawClient? socket in _sockets)
        {
            if (socket is { Failure: { } failure })
            {
                Error("socket closed by error: " + failure);
            }
        }

        foreach (RawClient?[] batch in _sockets.Chunk(256))
        {
            await Task.WhenAll(batch.Where(s => s is not null).Select(s => s!.CloseAsync()));
        }
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

    private static TaskCompletionSource<bool>[] CreateWaiters(int count)
    {
        var waiters = new TaskCompletionSource<bool>[count];
        for (int i = 0; i < count; i++)
        {
            waiters[i] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return waiters;
    }
}
