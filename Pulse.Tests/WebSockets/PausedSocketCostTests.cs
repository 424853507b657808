using Pulse.Tests.EndToEnd;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.Pipeline;
using Xunit.Abstractions;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// Issue 10 (4), on the published binary: phoenix.js rejoins its channels at once after a reconnect; a
/// phone that does so and then stops reading (a tunnel) is held, paused, at a stated cost, and loses
/// nothing when it reads again. The exact bytes per part are in <see cref="ReplyBackpressureTests"/>.
/// </summary>
// Serial: it measures the binary's RSS per paused socket, which parallel classes' load would move.
[Collection(SerialPipeline.Name)]
[Trait("Category", "binary")] public sealed class PausedSocketCostTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int Sockets = 200;
    private const int Joins = 10;

    [Fact]
    public async Task PeersThatDoNotRead_200SocketsPipeliningTenOneDayJoins_HeldWithinTheStatedBoundThenEveryReply()
    {
        // One-day events: a join reply is ≈ 120 KB, so ten are 1.2 MB a socket if the server held them all.
        var start = DateTime.UtcNow.AddDays(-1);
        var topics = new List<string>();
        for (int i = 0; i < Joins; i++)
        {
            var (eventId, _) = await database.CreateEventAsync($"Day {i}", start, start.AddDays(2), ("Barça", "#fcb"), ("Madrid", "#rm"));
            topics.Add(PipelineKit.Topic(eventId));
        }

        var joins = ClientFrames.Concat([.. topics.Select((t, i) => ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"{i}\",\"{i}\",\"{t}\",\"phx_join\",{{}}]")))]);
        await using var server = await PulseProcess.StartAsync(database.Url);
        var peers = new List<RawClient>();
        try
        {
            // A warm-up socket of the same kind: the snapshots get cached, and the pools the first socket fills are not counted.
            peers.Add(await JoinAndStallAsync(server, joins));
            long before = await server.SettledRssKiBAsync();
            for (int i = 0; i < Sockets; i++)
            {
                peers.Add(await JoinAndStallAsync(server, joins));
            }

            long after = await server.SettledRssKiBAsync();
            double perSocket = (after - before) / (double)Sockets;

            // Held per socket: replies under the 64 KiB pause threshold plus the one join reply that crossed it
            // (≈ 120 KB) plus one 4 KiB segment; Kestrel's output pipe, at most its 64 KiB pause threshold plus
            // one 32 KiB chunk of the writer; and an idle joined socket's ~7 KiB with its ten subscriptions.
            const int reply = 122_000;
            double boundKiB = ((WebSocketConnection.ReplyPauseBytes + reply + ReplyBuffer.SegmentBytes + (64 * 1024) + WebSocketConnection.WriteChunkBytes) / 1024.0) + 8;
            output.WriteLine($"{Sockets} paused sockets: {perSocket:F1} KiB of RSS each (stated bound {boundKiB:F1} KiB; {Joins * reply / 1024} KiB of replies each)");
            Assert.InRange(perSocket, 0, boundKiB);

            // Nothing was closed or lost: every join reply arrives, ok, once the peers read. The events are live,
            // so a minute's broadcast may come between the replies; those are counted apart, not as replies.
            foreach (var peer in peers)
            {
                var replied = new HashSet<string>();
                for (int frames = 0; replied.Count < Joins; frames++)
                {
                    Assert.True(frames < Joins * 20, $"only {replied.Count} of {Joins} join replies in {frames} frames");
                    var (b0, payload) = await peer.ReadFrameAsync();
                    Assert.Equal(0x81, b0);
                    using var message = JsonDocument.Parse(payload);
                    if (message.RootElement[3].GetString() != "phx_reply")
                    {
                        continue;
                    }

                    Assert.Equal("ok", message.RootElement[4].GetProperty("status").GetString());
                    Assert.True(replied.Add(message.RootElement[1].GetString()!), "a join reply arrived twice");
                }
            }
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }
    }

    private static async Task<RawClient> JoinAndStallAsync(PulseProcess server, byte[] joins)
    {
        var peer = await RawClient.ConnectAsync(server.BaseAddress.Port, smallWindow: true);
        await peer.UpgradeAsync();
        await peer.SendAsync(joins);
        return peer;
    }
}
