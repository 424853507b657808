using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// A minimal Kestrel on 127.0.0.1:0 with the transport in front of a few plain HTTP endpoints: <c>GET</c> (and <c>HEAD</c>) <c>/hello</c>
/// ("hi"), <c>GET /n/{n}</c> (n, to tell pipelined answers apart) and <c>POST /echo</c> (the body back).
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Weak references to the Kestrel request state behind every <c>/hello</c> request.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<WeakReference> RequestStates { get; private init; } = new();

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/socket/websocket?vsn=2.0.0");

    public static async Task<EchoServer> StartAsync(WebSocketTransportOptions? options = null, TimeProvider? time = null, Action<KestrelServerLimits>? limits = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            limits?.Invoke(k.Limits);
            k.Listen(IPAddress.Loopback, 0, listen =>
                listen.UsePulseWebSockets(options ?? new WebSocketTransportOptions(), new EchoHandlerFactory(), NullLoggerFactory.Instance, time ?? TimeProvider.System, new PulseMetrics()));
        });
        var app = builder.Build();
        var requestStates = new System.Collections.Concurrent.ConcurrentQueue<WeakReference>();
        app.MapMethods("/hello", ["GET", "HEAD"], (HttpContext context) =>
        {
            // HttpContext.Features is Kestrel's per-connection HTTP/1.1 state (Http1Connection): headers,
            // features, parser and output producer of the connection that carried this request.
            requestStates.Enqueue(new WeakReference(context.Features));
            return "hi";
        });
        app.MapGet("/n/{n:int}", (int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        app.MapPost("/echo", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            return Encoding.UTF8.GetString(body.ToArray());
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EchoServer(app, new Uri(address).Port) { RequestStates = requestStates };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Echoes every text message; "close" makes the server close with 4000; refuses <c>?refuse</c>.</summary>
    private sealed class EchoHandlerFactory : IWebSocketHandlerFactory
    {
        public bool TryAccept(in WebSocketRequest request, out string? error)
        {
            error = request.QueryString.Contains("refuse", StringComparison.Ordinal) ? "unsupported vsn" : null;
            return error is null;
        }

        public IWebSocketHandler Create(WebSocketConnection connection, in WebSocketRequest request) => new EchoHandler(connection);
    }

    private sealed class EchoHandler(WebSocketConnection connection) : IWebSocketHandler
    {
        public ValueTask OnTextMessageAsync(System.Buffers.ReadOnlySequence<byte> message)
        {
            if (message.Length == 5 && Encoding.UTF8.GetString(message) == "close")
            {
                connection.Close(4000, "asked");
            }
            else
            {
                connection.SendText(System.Buffers.BuffersExtensions.ToArray(message));
            }

            return ValueTask.CompletedTask;
        }

        public void OnClosed()
        {
        }
    }
}
