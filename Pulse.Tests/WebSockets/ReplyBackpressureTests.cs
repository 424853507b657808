using System.Buffers.Binary;
using Pulse.Tests.Pipeline;
using Xunit.Abstractions;

namespace Pulse.Tests.WebSockets;

/// <summary>
/// Issue 10 (4): the reply limit is on what a peer leaves unread, not on what one read batch produces.
/// The read loop stops parsing while replies wait for a peer that does not read, and 1008 comes only when
/// the output does not drain and a reply would pass <c>WebSocket:MaxQueuedReplyBytes</c>.
/// </summary>
/// <remarks>
/// On in-memory pipes, so that "does not read" is exact; the pipe towards the peer pauses its writer at
/// 1 byte here (the first flush stays pending until the test reads), or at a stated size.
/// </remarks>
[Trait("Category", "unit")] public sealed class ReplyBackpressureTests(ITestOutputHelper output)
{
    private const int Limit = 4096;
    private const int Pause = Limit / 2; // the pause threshold for a limit under 128 KiB
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(1, false)]
    public async Task BlockedOutput_RepliesAroundThePauseThreshold_NextMessageParsedOnlyBelowIt(int overPause, bool nextParsed)
    {
        CountingEcho echo = null!;
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions { MaxQueuedReplyBytes = Limit }, 1, c => echo = new CountingEcho(c));
        await BlockOutputAsync(socket);

        // A's echo is a frame of Pause + overPause bytes (a 16-bit length: 4 header bytes); B is 5 bytes.
        await socket.SendAsync(ClientFrames.Build(0x81, Letters(Pause + overPause - 4)), ClientFrames.Build(0x81, "probe"u8));

        if (nextParsed)
        {
            Assert.True(await PipelineKit.EventuallyAsync(() => echo.Handled == 3, Wait), $"{echo.Handled} handled");
        }
        else
        {
            Assert.True(await PipelineKit.EventuallyAsync(() => socket.Connection.ReadPaused, Wait), "the read loop never paused");
            Assert.Equal(2, echo.Handled);
            Assert.Equal(Pause + overPause, socket.Connection.QueuedReplyBytes);
        }

        // The peer reads: the replies drain, the read loop goes on, nothing is lost or reordered, nothing closed.
        var frames = await socket.ReadFramesAsync(3);
        Assert.Equal(["first", Encoding.ASCII.GetString(Letters(Pause + overPause - 4)), "probe"], frames.Select(f => Encoding.ASCII.GetString(f.Payload)));
        Assert.All(frames, f => Assert.Equal(0x81, f.B0));
        Assert.Equal(3, echo.Handled);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public async Task BlockedOutput_ReplyTakingTheQueueAroundTheLimit_ClosedWith1008OnlyPastIt(int overLimit, bool closed)
    {
        CountingEcho echo = null!;
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions { MaxQueuedReplyBytes = Limit }, 1, c => echo = new CountingEcho(c));
        await BlockOutputAsync(socket);

        // A: a 2,000-byte echo, under the pause threshold, so B is parsed too; B's echo brings the queue to
        // Limit + overLimit while the output does not drain. The peer reads only once both are answered:
        // reading earlier would unblock the output before B, which is another case.
        int b = Limit - 2000 + overLimit;
        await socket.SendAsync(ClientFrames.Build(0x81, Letters(2000 - 4)), ClientFrames.Build(0x81, Letters(b - 4)));
        Assert.True(await PipelineKit.EventuallyAsync(() => echo.Handled == 3, Wait), $"{echo.Handled} handled");

        var frames = await socket.ReadFramesAsync(3);
        Assert.Equal("first", Encoding.ASCII.GetString(frames[0].Payload));
        Assert.Equal((0x81, 2000 - 4), (frames[1].B0, frames[1].Payload.Length));
        if (closed)
        {
            // A stays and goes first; B is not queued; then the Close frame, and nothing after it (§5.5.1).
            Assert.Equal(0x88, frames[2].B0); // FIN=1, Close(0x8)
            Assert.Equal(1008, BinaryPrimitives.ReadUInt16BigEndian(frames[2].Payload));
            Assert.Equal("too many unread replies", Encoding.UTF8.GetString(frames[2].Payload.AsSpan(2)));
            Assert.Equal(0, socket.UnreadOutputBytes());
        }
        else
        {
            Assert.Equal((0x81, b - 4), (frames[2].B0, frames[2].Payload.Length));
        }
    }

    [Theory]
    [InlineData(16 * 1024)]
    [InlineData(64 * 1024)] // Kestrel's output pipe (SocketTransportOptions.MaxWriteBufferSize)
    public async Task PeerThatDoesNotRead_3000PipelinedMessages_HeldBytesBoundedThenEveryReplyInOrder(int outputPause)
    {
        const int messages = 3000;
        const int reply = 62; // 60 bytes of payload + 2 header bytes
        CountingEcho echo = null!;
        await using var socket = InMemorySocket.Start(new WebSocketTransportOptions(), outputPause, c => echo = new CountingEcho(c));

        await socket.SendAsync([.. Enumerable.Range(0, messages).Select(i => ClientFrames.Build(0x81, Encoding.ASCII.GetBytes($"{i:D60}")))]);

        // 3,000 × 62 = 186,000 bytes of replies: more than the pipe and the pause threshold together.
        Assert.True(await PipelineKit.EventuallyAsync(() => socket.Connection.ReadPaused && socket.Connection.OutputBlocked, Wait), "the read loop never paused");
        long queued = socket.Connection.QueuedReplyBytes;
        long inPipe = socket.UnreadOutputBytes();
        output.WriteLine($"output pipe pausing at {outputPause} B: {queued} B queued + {inPipe} B in the pipe = {queued + inPipe} B held; {echo.Handled} of {messages} messages parsed");
        // The queue: under the pause threshold before the last message parsed, plus that message's reply. The
        // pipe: its own pause threshold reached (the flush is pending), by at most one chunk of the writer.
        Assert.InRange(queued, 0, WebSocketConnection.ReplyPauseBytes + reply - 1);
        Assert.InRange(inPipe, outputPause, outputPause + WebSocketConnection.WriteChunkBytes - 1);
        Assert.True(echo.Handled < messages);

        var frames = await socket.ReadFramesAsync(messages);
        Assert.Equal(Enumerable.Range(0, messages).Select(i => $"{i:D60}"), frames.Select(f => Encoding.ASCII.GetString(f.Payload)));
        Assert.Equal(messages, echo.Handled);
    }

    /// <summary>"first" is echoed into the pipe, whose writer then waits for the test to read.</summary>
    private static async Task BlockOutputAsync(InMemorySocket socket)
    {
        await socket.SendAsync(ClientFrames.Build(0x81, "first"u8));
        Assert.True(await PipelineKit.EventuallyAsync(() => socket.Connection.OutputBlocked, Wait), "the flush never went pending");
    }

    private static byte[] Letters(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)('a' + (i % 26)))];
}
