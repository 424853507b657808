using Pulse.Phoenix;

namespace Pulse.Tests.Phoenix;

public class PhoenixOptionsTests
{
    [Theory]
    [InlineData(0, "WebSocket:MaxTopicsPerSocket must be at least 1")]
    [InlineData(1, null)]
    [InlineData(100, null)]
    public void Validate_MaxTopicsPerSocket_AtLeastOne(int value, string? error)
    {
        Assert.Equal(error, new PhoenixOptions { MaxTopicsPerSocket = value }.Validate());
    }

    [Fact]
    public void Defaults_MaxTopicsPerSocket_Is100()
    {
        Assert.Equal(100, new PhoenixOptions().MaxTopicsPerSocket);
    }
}
