using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Pulse.Hosting;
using Pulse.Http;

namespace Pulse.Tests.Infrastructure;

/// <summary>The real server, in-process on a free loopback port, on a <see cref="TestDatabase"/>.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(PulseServer server, Uri baseAddress, string apiKey)
    {
        Server = server;
        BaseAddress = baseAddress;
        ApiKey = apiKey;
        Client = new HttpClient { BaseAddress = baseAddress };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public PulseServer Server { get; }

    public Uri BaseAddress { get; }

    public string ApiKey { get; }

    /// <summary>Sends the API key.</summary>
    public HttpClient Client { get; }

    public Uri WebSocketUri(string vsn = "2.0.0") => new($"ws://{BaseAddress.Authority}/socket/websocket?vsn={vsn}");

    public static async Task<TestServer> StartAsync(TestDatabase database, Action<PulseOptions>? configure = null, TimeProvider? timeProvider = null)
    {
        var options = PulseConfiguration.Load(null, new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0", ["Database:Url"] = database.Url }, new Dictionary<string, string?>());
        // In-process tests end with sockets open; a drain window would only slow their disposal.
        options.Shutdown.DrainSeconds = 0;
        configure?.Invoke(options);
        PulseOptionsValidator.Validate(options);
        var server = PulseServer.Create(options, timeProvider, logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole());
        await server.StartAsync();
        var key = await database.CreateApiKeyAsync();
        return new TestServer(server, new Uri(server.Addresses[0]), key);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
    }
}
