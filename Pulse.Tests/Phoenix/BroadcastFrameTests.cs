using Pulse.Phoenix;

namespace Pulse.Tests.Phoenix;

public class BroadcastFrameTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x81, 0 })]                                  // FIN=1, Text(0x1), MASK=0, len=0
    [InlineData(125, new byte[] { 0x81, 125 })]                              // FIN=1, Text, MASK=0, len=125 (7-bit max)
    [InlineData(126, new byte[] { 0x81, 126, 0x00, 0x7E })]                  // FIN=1, Text, MASK=0, len=126 → 16-bit 126
    [InlineData(65535, new byte[] { 0x81, 126, 0xFF, 0xFF })]                // FIN=1, Text, MASK=0, len=126 → 16-bit 65535
    [InlineData(65536, new byte[] { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 })]    // FIN=1, Text, MASK=0, len=127 → 64-bit 65536
    public void CreateText_EveryLengthEncoding_HeaderThenPayload(int length, byte[] header)
    {
        var payload = new byte[length];
        Random.Shared.NextBytes(payload);

        var frame = BroadcastFrame.CreateText(payload);

        Assert.Equal(header.Length, BroadcastFrame.HeaderLength(length));
        Assert.Equal(header, frame[..header.Length]);
        Assert.Equal(payload, frame[header.Length..]);
    }
}
