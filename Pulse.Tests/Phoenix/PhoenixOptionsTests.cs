namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public class PhoenixOptionsTests
{
    [Fact]
    public void Defaults_MaxTopicsPerSocket_Is100()
    {
        Assert.Equal(100, new WebSocketTransportOptions().MaxTopicsPerSocket);
    }
}
