using Xunit.Abstractions;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// What an upgraded socket keeps alive on the server, by path: an upgrade after a keep-alive request must cost no
/// more than a first-request upgrade (DESIGN §10). Measured as managed heap per idle socket after a full
/// collection, both paths in the same process, alone (no other test allocates meanwhile).
/// </summary>
[Collection(Name)]
public sealed class KeepAliveUpgradeCostTests(ITestOutputHelper output)
{
    public const string Name = "KeepAliveUpgradeCost";

    private const int Sockets = 400;

    [Fact]
    public async Task IdleSockets_UpgradedAfterAKeepAliveRequest_HoldNoMoreThanFirstRequestUpgrades()
    {
        await using var server = await TestServer.StartAsync();
        await HoldAsync(server, 20, afterRequest: true); // warm both paths up: JIT, pools, Kestrel's caches
        await HoldAsync(server, 20, afterRequest: false);

        long first = await BytesPerSocketAsync(server, afterRequest: false);
        long keepAlive = await BytesPerSocketAsync(server, afterRequest: true);
        output.WriteLine($"managed heap per idle socket (server and client sides): first request {first} B, after a keep-alive request {keepAlive} B");

        // Kestrel's per-connection HTTP state (request headers, features, parser, output producer) is several KiB:
        // kept alive by anything (its heartbeat registration, a feature), it would show far beyond this margin.
        Assert.True(keepAlive <= first + 256, $"after a keep-alive request {keepAlive} B a socket, first request {first} B");
    }

    private static async Task<long> BytesPerSocketAsync(TestServer server, bool afterRequest)
    {
        long before = Heap();
        var peers = await HoldAsync(server, Sockets, afterRequest);
        long after = Heap();
        GC.KeepAlive(peers);
        await CloseAsync(peers);
        return (after - before) / Sockets;
    }

    /// <summary>Closes the peers and waits until the server has let go of every socket.</summary>
    private static async Task CloseAsync(List<RawPeer> peers)
    {
        foreach (var peer in peers)
        {
            peer.Dispose();
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Interlocked.Read(ref Pulse.Http.PulseMetrics.Connections) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, Interlocked.Read(ref Pulse.Http.PulseMetrics.Connections));
    }

    private static async Task<List<RawPeer>> HoldAsync(TestServer server, int count, bool afterRequest)
    {
        var peers = new List<RawPeer>(count);
        for (int i = 0; i < count; i++)
        {
            var peer = await RawPeer.ConnectAsync(server.Port);
            peers.Add(peer);
            if (afterRequest)
            {
                await peer.SendAsync("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200", await peer.ReadResponseAsync(), StringComparison.Ordinal);
            }

            await peer.UpgradeAsync();

            // One echo: the socket's read loop has run, as an idle joined socket's has.
            await peer.SendAsync(FrameBytes.Client(0x81, "x"u8));
            await peer.ReadFrameAsync();
        }

        if (count < Sockets)
        {
            await CloseAsync(peers);
        }

        return peers;
    }

    private static long Heap()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

[CollectionDefinition(KeepAliveUpgradeCostTests.Name, DisableParallelization = true)]
public sealed class KeepAliveUpgradeCostGroup;
