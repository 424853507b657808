using System.IO.Pipelines;

namespace Pulse.Tests.WebSockets;

[Trait("Category", "unit")] public sealed class ReplyBufferTests
{
    [Fact]
    public async Task AppendFrameThenWriteTo_EveryLengthEncodingAcrossSegments_SameBytesAsFrameWriterNothingHeldAfter()
    {
        // Every length encoding, one after the other, so frames start and end at every kind of segment offset.
        int[] lengths = [0, 125, 126, 65_535, 65_536, 1, 4090];
        var payloads = lengths.Select(n => Enumerable.Range(0, n).Select(i => (byte)(i * 7)).ToArray()).ToList();
        var buffer = new ReplyBuffer();
        payloads.ForEach(p => buffer.AppendFrame(Opcode.Text, p));
        var expected = payloads.SelectMany(p => FrameWriter.Encode(Opcode.Text, p)).ToArray();
        Assert.Equal(expected.Length, buffer.Length);

        // Drained in odd chunks, as the writer does between flushes.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        int total = 0;
        while (buffer.Length > 0)
        {
            total += buffer.WriteTo(pipe.Writer, 3001);
        }

        await pipe.Writer.FlushAsync();
        pipe.Writer.Complete();
        var written = await pipe.Reader.ReadAsync();
        Assert.Equal(expected.Length, total);
        Assert.Equal(expected, System.Buffers.BuffersExtensions.ToArray(written.Buffer));
    }

    [Theory]
    [InlineData(ReplyBuffer.SegmentBytes - 1)]
    [InlineData(ReplyBuffer.SegmentBytes)]
    [InlineData(ReplyBuffer.SegmentBytes + 1)]
    public async Task WriteTo_PartOfTheBytes_LengthCountsTheRestAndClearEmpties(int first)
    {
        var buffer = new ReplyBuffer();
        buffer.AppendFrame(Opcode.Text, new byte[10_000]);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));

        Assert.Equal(first, buffer.WriteTo(pipe.Writer, first));
        Assert.Equal(10_004 - first, buffer.Length);
        buffer.Clear();
        Assert.Equal(0, buffer.Length);
        Assert.Equal(0, buffer.WriteTo(pipe.Writer, 100));
        await pipe.Writer.FlushAsync();
    }
}
