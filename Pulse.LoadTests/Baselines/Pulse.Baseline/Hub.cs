using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Pulse.Baseline;

/// <summary>One connected browser: its socket and a lock, since a WebSocket allows one send at a time.</summary>
internal sealed class Client(WebSocket socket)
{
    public WebSocket Socket { get; } = socket;
    public SemaphoreSlim SendLock { get; } = new(1, 1);

    public async Task SendAsync(string text, CancellationToken cancellationToken = default)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        await SendLock.WaitAsync(cancellationToken);
        try
        {
            await Socket.SendAsync(bytes, WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            SendLock.Release();
        }
    }
}

/// <summary>Topics and their subscribers; a broadcast sends to each in turn.</summary>
internal sealed class Hub
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Client, string>> _topics = new();

    public void Join(string topic, Client client, string joinRef) =>
        _topics.GetOrAdd(topic, _ => new ConcurrentDictionary<Client, string>())[client] = joinRef;

    public void Leave(string topic, Client client)
    {
        if (_topics.TryGetValue(topic, out var clients))
        {
            clients.TryRemove(client, out _);
        }
    }

    public void LeaveAll(Client client)
    {
        foreach (var clients in _topics.Values)
        {
            clients.TryRemove(client, out _);
        }
    }

    public async Task BroadcastAsync(string topic, string eventName, ViewModel model)
    {
        if (!_topics.TryGetValue(topic, out var clients))
        {
            return;
        }

        string message = JsonSerializer.Serialize(new object?[] { null, null, topic, eventName, model }, ViewModels.Json);
        foreach (Client client in clients.Keys)
        {
            try
            {
                await client.SendAsync(message);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                Leave(topic, client);
            }
        }
    }
}
