using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Pulse.Baseline;

/// <summary>A Phoenix V2 socket: join, heartbeat, leave; one receive loop per connection.</summary>
internal static class PhoenixSocket
{
    public static async Task HandleAsync(HttpContext context, Hub hub, ViewModels models)
    {
        string? vsn = context.Request.Query["vsn"];
        if (!context.WebSockets.IsWebSocketRequest || vsn is null || !vsn.StartsWith("2.0", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 400;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
        var client = new Client(socket);
        var buffer = new byte[4096];
        var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                string text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                await HandleMessageAsync(text, client, hub, models, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The browser went away.
        }
        finally
        {
            hub.LeaveAll(client);
        }
    }

    private static async Task HandleMessageAsync(string text, Client client, Hub hub, ViewModels models, CancellationToken cancellationToken)
    {
        JsonElement[] parts;
        try
        {
            parts = JsonSerializer.Deserialize<JsonElement[]>(text) ?? [];
        }
        catch (JsonException)
        {
            return;
        }

        if (parts.Length != 5)
        {
            return;
        }

        string? joinRef = parts[0].ValueKind == JsonValueKind.String ? parts[0].GetString() : null;
        string? msgRef = parts[1].ValueKind == JsonValueKind.String ? parts[1].GetString() : null;
        string topic = parts[2].GetString() ?? "";
        string eventName = parts[3].GetString() ?? "";
        object response;
        string status = "ok";
        switch (eventName)
        {
            case "heartbeat" when topic == "phoenix":
                response = new { };
                break;
            case "phx_join" when topic.StartsWith("event:", StringComparison.Ordinal) && Guid.TryParse(topic[6..], out Guid id):
                ViewModel? model = await models.ComputeAsync(id, cancellationToken);
                if (model is null)
                {
                    status = "error";
                    response = new { reason = "not found" };
                    break;
                }

                hub.Join("event:" + id.ToString("D"), client, joinRef ?? "");
                response = new { channel = topic, @params = parts[4], snapshot = model };
                break;
            case "phx_join":
                status = "error";
                response = new { reason = "unmatched topic" };
                break;
            case "phx_leave":
                hub.Leave(topic, client);
                response = new { };
                break;
            default:
                return;
        }

        string reply = JsonSerializer.Serialize(new object?[] { joinRef, msgRef, topic, "phx_reply", new { status, response } }, ViewModels.Json);
        await client.SendAsync(reply, cancellationToken);
    }
}
