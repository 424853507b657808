using Pulse.Tests.Infrastructure;
using Pulse.Tests.WebSockets;
using Xunit.Abstractions;

namespace Pulse.Tests.Phoenix;

/// <summary>
/// Issue 10 (4): phoenix.js rejoins every channel at once after a reconnect, in one write. A client that
/// pipelines joins of one-day events (~120 KB snapshots) and reads at full speed is never closed.
/// </summary>
[Trait("Category", "socket")] public sealed class PipelinedJoinTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData(10)]
    [InlineData(100)] // WebSocket:MaxTopicsPerSocket
    public async Task PipelinedJoinsOfOneDayEvents_ClientReadsAtFullSpeed_EveryJoinOkNothingClosed(int joins)
    {
        // Started a day ago: 1,440+ one-minute points per side, two sides, ≈ 120 KB of view model per reply.
        var start = DateTime.UtcNow.AddDays(-1);
        var topics = new List<string>();
        for (int i = 0; i < joins; i++)
        {
            var (eventId, _) = await database.CreateEventAsync($"Day {i}", start, start.AddDays(2), ("Barça", "#fcb"), ("Madrid", "#rm"));
            topics.Add($"event:{eventId}");
        }

        await using var server = await Infrastructure.TestServer.StartAsync(database);
        using var peer = await RawClient.ConnectAsync(server.BaseAddress.Port);
        await peer.UpgradeAsync();

        // Every join in one write, as phoenix.js flushes its send buffer on open.
        await peer.SendAsync(ClientFrames.Concat([.. topics.Select((t, i) => ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"{i}\",\"{i}\",\"{t}\",\"phx_join\",{{}}]")))]));

        long replyBytes = 0;
        for (int i = 0, frames = 0; i < joins; frames++)
        {
            Assert.True(frames < joins * 20, $"only {i} of {joins} join replies in {frames} frames");
            var (b0, payload) = await peer.ReadFrameAsync();
            Assert.True(b0 == 0x81, $"frame {frames}: opcode byte 0x{b0:X2} (a Close frame is 0x88: {(b0 == 0x88 ? Encoding.UTF8.GetString(payload.AsSpan(2)) : string.Empty)})");
            using var reply = JsonDocument.Parse(payload);
            var root = reply.RootElement;
            if (root[3].GetString() != "phx_reply")
            {
                continue; // the events are live: a minute's broadcast to a joined topic may come between replies
            }

            Assert.Equal((i.ToString(System.Globalization.CultureInfo.InvariantCulture), topics[i], "phx_reply", "ok"), (root[1].GetString(), root[2].GetString(), root[3].GetString(), root[4].GetProperty("status").GetString()));
            Assert.True(root[4].GetProperty("response").GetProperty("snapshot").GetProperty("queries")[0].GetProperty("time_series").GetArrayLength() >= 1440);
            replyBytes += payload.Length;
            i++;
        }

        output.WriteLine($"{joins} pipelined joins answered ok: {replyBytes:N0} bytes of replies, {replyBytes / joins:N0} a join");
        Assert.True(replyBytes / joins > 100_000, "the replies are not of one-day events");

        // Still open and served.
        await peer.SendAsync(ClientFrames.Build(0x81, """[null,"hb","phoenix","heartbeat",{}]"""u8));
        byte[] heartbeat;
        do
        {
            (_, heartbeat) = await peer.ReadFrameAsync();
        }
        while (!Encoding.UTF8.GetString(heartbeat).Contains("\"phoenix\"", StringComparison.Ordinal)); // skipping a live event's broadcast

        Assert.Equal("""[null,"hb","phoenix","phx_reply",{"status":"ok","response":{}}]""", Encoding.UTF8.GetString(heartbeat));
    }
}
