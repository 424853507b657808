using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Pulse.Tests.Phoenix;

/// <summary>
/// A Phoenix client on .NET's <see cref="ClientWebSocket"/>, for tests over real sockets against the
/// whole server: sends text frames as given, reads whole messages as JSON.
/// </summary>
internal sealed class WireClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket;

    private WireClient(ClientWebSocket socket) => _socket = socket;

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    public static async Task<WireClient> ConnectAsync(Uri uri, string? origin = null)
    {
        // No keep-alive pongs: a heartbeat-timeout test needs a socket that is truly silent.
        var socket = new ClientWebSocket { Options = { KeepAliveInterval = TimeSpan.Zero } };
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        using var timeout = new CancellationTokenSource(DefaultWait);
        await socket.ConnectAsync(uri, timeout.Token);
        return new WireClient(socket);
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(DefaultWait);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    /// <summary>The next whole text message; null when the server closed the socket.</summary>
    public async Task<string?> ReceiveTextAsync(TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    public async Task<JsonElement> ReceiveAsync(TimeSpan? wait = null)
    {
        var text = await ReceiveTextAsync(wait) ?? throw new InvalidOperationException($"socket closed: {CloseStatus} {CloseStatusDescription}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Reads messages until one matches; the ones before are returned too, for assertions.</summary>
    public async Task<(JsonElement Match, List<JsonElement> Before)> ReceiveUntilAsync(Func<JsonElement, bool> match, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? DefaultWait);
        var before = new List<JsonElement>();
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var message = await ReceiveAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (match(message))
            {
                return (message, before);
            }

            before.Add(message);
        }
    }

    /// <summary>Sends a V2 heartbeat and returns every message up to its reply (which proves the socket is up).</summary>
    public async Task<List<JsonElement>> HeartbeatAsync(string @ref)
    {
        await SendAsync($"[null,\"{@ref}\",\"phoenix\",\"heartbeat\",{{}}]");
        var (reply, before) = await ReceiveUntilAsync(m => m.ValueKind == JsonValueKind.Array && m[1].GetString() == @ref);
        Assert.Equal("""[null,"REF","phoenix","phx_reply",{"status":"ok","response":{}}]""".Replace("REF", @ref, StringComparison.Ordinal), reply.GetRawText());
        return before;
    }

    /// <summary>A V2 join; returns the reply.</summary>
    public async Task<JsonElement> JoinAsync(string topic, string joinRef, string payload = "{}")
    {
        await SendAsync($"[\"{joinRef}\",\"{joinRef}\",\"{topic}\",\"phx_join\",{payload}]");
        var (reply, _) = await ReceiveUntilAsync(m => m[3].GetString() == "phx_reply" && m[1].GetString() == joinRef);
        return reply;
    }

    /// <summary>Waits for the server's Close frame (answering it) and returns its code.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan wait)
    {
        while (await ReceiveTextAsync(wait) is not null)
        {
        }

        return _socket.CloseStatus;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server went first or is gone; nothing to hand back.
            }
        }

        _socket.Dispose();
    }
}
