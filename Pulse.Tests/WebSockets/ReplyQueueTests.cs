using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// <c>WebSocket:MaxQueuedReplyBytes</c> at its exact boundary, on a connection whose output never drains
/// (over real sockets the boundary hides behind kernel buffers; ReplyBackpressureTests covers the read
/// loop's side: the pause that keeps a peer's own replies under the limit).
/// </summary>
[Trait("Category", "unit")] public sealed class ReplyQueueTests
{
    private const int Limit = 1024;

    [Theory]
    [InlineData(Limit - 1, false)]
    [InlineData(Limit, false)]
    [InlineData(Limit + 1, true)]
    public async Task QueuedReplies_TotalAroundTheLimit_KeptOrClosedWith1008(int queuedBytes, bool expectClose)
    {
        // The output pipe pauses its writer at 1 byte: the first reply is flushed into it and the flush
        // stays pending until the test reads, so everything sent after it waits in the reply queue.
        var toServer = new Pipe();
        var fromServer = new Pipe(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false));
        var context = new DefaultConnectionContext("test", new DuplexPipe(toServer.Reader, fromServer.Writer), new DuplexPipe(fromServer.Reader, toServer.Writer));
        var options = new WebSocketTransportOptions { MaxQueuedReplyBytes = Limit };
        using var heartbeat = new WebSocketHeartbeat(TimeProvider.System, NullLogger.Instance);
        var socket = new WebSocketConnection(context, options, heartbeat, NullLogger.Instance, TimeProvider.System, new PulseMetrics());

        socket.SendText("first"u8);
        var first = await fromServer.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(7, first.Buffer.Length); // 2 header bytes + "first"; now the writer waits on its flush
        Assert.True(await Pipeline.PipelineKit.EventuallyAsync(() => socket.OutputBlocked, TimeSpan.FromSeconds(5)), "the flush never went pending");

        // Nine frames of 100 + 2 bytes, then one frame that brings the queue to queuedBytes (its payload
        // stays under 126 bytes, so its header is 2 bytes too).
        for (int i = 0; i < 9; i++)
        {
            socket.SendText(new byte[100]);
        }

        socket.SendText(new byte[queuedBytes - (9 * 102) - 2]);
        fromServer.Reader.AdvanceTo(first.Buffer.End);

        var frames = await ReadFramesAsync(fromServer.Reader, 10);

        if (expectClose)
        {
            // The nine replies that fit stay and go first; the one past the limit is not queued; then 1008.
            Assert.All(frames.Take(9), f => Assert.Equal((0x81, 100), (f.B0, f.Payload.Length)));
            var close = frames[9];
            Assert.Equal(0x88, close.B0);
            Assert.Equal(1008, BinaryPrimitives.ReadUInt16BigEndian(close.Payload));
        }
        else
        {
            Assert.Equal(10, frames.Count);
            Assert.All(frames, f => Assert.Equal(0x81, f.B0));
            Assert.Equal(queuedBytes - (10 * 2), frames.Sum(f => f.Payload.Length));
        }
    }

    /// <summary>Reads <paramref name="count"/> unmasked frames (payloads under 126 bytes), then checks nothing else follows.</summary>
    private static async Task<List<(byte B0, byte[] Payload)>> ReadFramesAsync(PipeReader reader, int count)
    {
        var frames = new List<(byte, byte[])>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (frames.Count < count)
        {
            var result = await reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            while (frames.Count < count && buffer.Length >= 2)
            {
                var header = buffer.Slice(0, 2).ToArray();
                int length = header[1] & 0x7F;
                if (buffer.Length < 2 + length)
                {
                    break;
                }

                frames.Add((header[0], buffer.Slice(2, length).ToArray()));
                buffer = buffer.Slice(2 + length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }

        // Nothing after: no further reply after the Close frame (§5.5.1), no Close after kept replies.
        Assert.False(reader.TryRead(out var rest) && !rest.Buffer.IsEmpty, "more bytes followed");
        return frames;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
