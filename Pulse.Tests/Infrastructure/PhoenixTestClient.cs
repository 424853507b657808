using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// A Phoenix V2 client over a real <see cref="ClientWebSocket"/>. A background loop reads every
/// message into an inbox stamped with <see cref="Stopwatch.GetTimestamp"/> at receipt, so a test
/// can wait with a timeout (cancelling <see cref="ClientWebSocket.ReceiveAsync(ArraySegment{byte}, CancellationToken)"/>
/// itself would abort the socket) and measure delivery times.
/// </summary>
internal sealed class PhoenixTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();

    // Bounded so a test that stops reading back-pressures the read loop (then TCP) instead of
    // growing memory; Wait: nothing is dropped; one reader (the test), one writer (the read loop).
    private readonly Channel<PhoenixTestMessage> _inbox = Channel.CreateBounded<PhoenixTestMessage>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });

    // Messages read past while waiting for a reply (a broadcast may precede the join reply).
    private readonly Queue<PhoenixTestMessage> _early = new();
    private Task _readLoop = Task.CompletedTask;
    private int _ref;

    public static async Task<PhoenixTestClient> ConnectAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        var client = new PhoenixTestClient();
        await client._socket.ConnectAsync(uri, cancellationToken);
        client._readLoop = client.ReadLoopAsync();
        return client;
    }

    /// <summary>Sends <c>phx_join</c> and returns its reply; throws when no reply comes within <paramref name="timeout"/>.</summary>
    public async Task<PhoenixTestMessage> JoinAsync(string topic, TimeSpan timeout)
    {
        string joinRef = Interlocked.Increment(ref _ref).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendAsync(joinRef, joinRef, topic, "phx_join", "{}");
        return await ReplyAsync(joinRef, timeout);
    }

    /// <summary>Sends <c>phx_leave</c> for the join <paramref name="joinRef"/> and returns its reply.</summary>
    public async Task<PhoenixTestMessage> LeaveAsync(string joinRef, string topic, TimeSpan timeout)
    {
        string @ref = Interlocked.Increment(ref _ref).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendAsync(joinRef, @ref, topic, "phx_leave", "{}");
        return await ReplyAsync(@ref, timeout);
    }

    public Task SendAsync(string? joinRef, string? @ref, string topic, string @event, string payloadJson)
    {
        string text = $"[{Json(joinRef)},{Json(@ref)},{Json(topic)},{Json(@event)},{payloadJson}]";
        return _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>The next message, or <c>null</c> when none arrives within <paramref name="timeout"/> (or the socket closed).</summary>
    public async Task<PhoenixTestMessage?> ReceiveAsync(TimeSpan timeout)
    {
        if (_early.TryDequeue(out var early))
        {
            return early;
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _inbox.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Every message received until none comes for <paramref name="quiet"/>; at most <paramref name="max"/>.</summary>
    public async Task<List<PhoenixTestMessage>> ReceiveUntilQuietAsync(TimeSpan quiet, int max = 1000)
    {
        var messages = new List<PhoenixTestMessage>();
        while (messages.Count < max && await ReceiveAsync(quiet) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The server is gone or slow: abort below.
        }

        _socket.Abort();
        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
    }

    private async Task<PhoenixTestMessage> ReplyAsync(string @ref, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            using var cts = new CancellationTokenSource(left);
            PhoenixTestMessage message;
            try
            {
                message = await _inbox.Reader.ReadAsync(cts.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                throw new TimeoutException($"no phx_reply to ref {@ref} within {timeout}");
            }

            if (message.Event == "phx_reply" && message.Ref == @ref)
            {
                return message;
            }

            _early.Enqueue(message);
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                buffer.Advance(result.Count);
                if (result.EndOfMessage)
                {
                    long at = Stopwatch.GetTimestamp();
                    await _inbox.Writer.WriteAsync(PhoenixTestMessage.Parse(buffer.WrittenSpan, at));
                    buffer.ResetWrittenCount();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Aborted by DisposeAsync or by the server.
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }

    private static string Json(string? value) => value is null ? "null" : JsonSerializer.Serialize(value);
}

/// <summary>One V2 message <c>[join_ref, ref, topic, event, payload]</c> and its receipt time (a <see cref="Stopwatch"/> timestamp).</summary>
internal sealed record PhoenixTestMessage(string? JoinRef, string? Ref, string Topic, string Event, JsonElement Payload, long ReceivedAt, int Bytes)
{
    public static PhoenixTestMessage Parse(ReadOnlySpan<byte> utf8, long receivedAt)
    {
        using var document = JsonDocument.Parse(utf8.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() != 5)
        {
            throw new FormatException("not a V2 message: " + Encoding.UTF8.GetString(utf8));
        }

        return new PhoenixTestMessage(root[0].GetString(), root[1].GetString(), root[2].GetString()!, root[3].GetString()!, root[4].Clone(), receivedAt, utf8.Length);
    }

    /// <summary>The reply's <c>status</c> (<c>ok</c>/<c>error</c>).</summary>
    public string? Status => Payload.TryGetProperty("status", out var s) ? s.GetString() : null;

    /// <summary>The view model: a broadcast's payload, or a join reply's <c>response.snapshot</c>.</summary>
    public JsonElement ViewModel => Event == "phx_reply" ? Payload.GetProperty("response").GetProperty("snapshot") : Payload;

    public long Version => ViewModel.GetProperty("version").GetInt64();

    public int Total => ViewModel.GetProperty("total").GetInt32();

    /// <summary>Per side (<c>query</c>) its <c>count</c>.</summary>
    public Dictionary<string, int> Counts => ViewModel.GetProperty("queries").EnumerateArray()
        .ToDictionary(q => q.GetProperty("query").GetString()!, q => q.GetProperty("count").GetInt32(), StringComparer.Ordinal);
}
