using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace Pulse.Testing.Phoenix;

/// <summary>
/// The reference Phoenix client: a real <see cref="ClientWebSocket"/> (the framing of .NET's own
/// ManagedWebSocket, not ours), messages encoded by <see cref="PhoenixV2Codec"/> or
/// <see cref="PhoenixV1Codec"/>, and a background read loop that stamps every message into an inbox
/// (<see cref="PhoenixClient.Inbox"/>) as it arrives, so a test can wait with a timeout (cancelling
/// <see cref="ClientWebSocket.ReceiveAsync(Memory{byte}, CancellationToken)"/> itself would abort the
/// socket), match replies by ref, and measure delivery times.
/// </summary>
/// <remarks>
/// Thread safety: sends may come from any thread (serialized here); the inbox is guarded by one lock.
/// The inbox is unbounded: a test that never reads keeps what arrives (tests are bounded in count);
/// a peer that must stop reading at the TCP level is a <see cref="Raw.RawClient"/>.
/// </remarks>
internal sealed partial class PhoenixClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly PhoenixClientOptions _options;
    private readonly bool _v1;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private Task _readLoop = Task.CompletedTask;
    private int _ref;

    private PhoenixClient(ClientWebSocket socket, PhoenixClientOptions options, bool v1)
    {
        _socket = socket;
        _options = options;
        _v1 = v1;
    }

    public WebSocketState State => _socket.State;

    public static async Task<PhoenixClient> ConnectAsync(Uri uri, PhoenixClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PhoenixClientOptions();
        // No keep-alive pongs of our own: a heartbeat-timeout test needs a socket that is truly silent.
        var socket = new ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
        if (options.Origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", options.Origin);
        }

        bool v1 = options.V1 ?? uri.Query.Contains("vsn=1.", StringComparison.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.DefaultWait);
        try
        {
            await socket.ConnectAsync(uri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new PhoenixClient(socket, options, v1);
        client._readLoop = client.ReadLoopAsync();
        return client;
    }

    /// <summary>Connects and joins <paramref name="topic"/> (a browser tab on one event); the join reply stays in the inbox.</summary>
    public static async Task<PhoenixClient> ConnectAndJoinAsync(Uri uri, string topic, PhoenixClientOptions? options = null)
    {
        var client = await ConnectAsync(uri, options);
        try
        {
            await client.JoinAsync(topic);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh ref ("1", "2", …), for helpers not given one.</summary>
    public string NextRef() => Interlocked.Increment(ref _ref).ToString(CultureInfo.InvariantCulture);

    /// <summary>Sends <paramref name="text"/> as one text message, as given: for messages a codec would never write.</summary>
    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one Phoenix message in the client's serializer (escaped by the codec).</summary>
    public Task PushAsync(string topic, string @event, string payloadJson = "{}", string? joinRef = null, string? @ref = null) =>
        SendAsync(_v1
            ? PhoenixV1Codec.Encode(joinRef, @ref, topic, @event, payloadJson)
            : PhoenixV2Codec.Encode(joinRef, @ref, topic, @event, payloadJson));

    /// <summary>Sends <c>phx_join</c> (join_ref = ref, as phoenix.js does) and returns its reply.</summary>
    public async Task<InboxMessage> JoinAsync(string topic, string? joinRef = null, string payloadJson = "{}", TimeSpan? timeout = null)
    {
        joinRef ??= NextRef();
        await PushAsync(topic, "phx_join", payloadJson, joinRef, joinRef);
        return await ReplyAsync(joinRef, timeout);
    }

    /// <summary>Sends <c>phx_leave</c> for the join <paramref name="joinRef"/> and returns its reply.</summary>
    public async Task<InboxMessage> LeaveAsync(string topic, string joinRef, TimeSpan? timeout = null)
    {
        string @ref = NextRef();
        await PushAsync(topic, "phx_leave", "{}", joinRef, @ref);
        return await ReplyAsync(@ref, timeout);
    }

    /// <summary>
    /// Sends a heartbeat and returns every message taken before its reply (the reply proves the socket is
    /// up); throws when the reply is not exactly <c>{"status":"ok","response":{}}</c>.
    /// </summary>
    public async Task<List<InboxMessage>> HeartbeatAsync(string? @ref = null, TimeSpan? timeout = null)
    {
        @ref ??= NextRef();
        await PushAsync("phoenix", "heartbeat", "{}", null, @ref);
        var (reply, before) = await ReceiveUntilAsync(m => m.Ref == @ref, timeout);
        bool ok = _v1
            ? reply is { Topic: "phoenix", Event: "phx_reply", Status: "ok" } && reply.Payload.GetProperty("response").GetRawText() == "{}"
            : reply.Text == $$$"""[null,"{{{@ref}}}","phoenix","phx_reply",{"status":"ok","response":{}}]""";
        if (!ok)
        {
            throw new InvalidOperationException($"heartbeat {@ref}: not an empty ok reply: {reply.Text}");
        }

        return before;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server went first or is gone: abort below.
            }
        }

        _socket.Abort();
        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _sendGate.Dispose();
    }

    private async Task SendAsync(byte[] utf8)
    {
        using var timeout = new CancellationTokenSource(_options.DefaultWait);
        await _sendGate.WaitAsync(timeout.Token);
        try
        {
            await _socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        }
        finally
        {
            _sendGate.Release();
        }
    }
}
