namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public class PhoenixVsnTests
{
    [Theory]
    [InlineData("", 1)]                       // no query: V1, as Phoenix
    [InlineData("?", 1)]
    [InlineData("?token=abc", 1)]             // no vsn
    [InlineData("?vsnx=9", 1)]                // another key
    [InlineData("?vsn=1.0.0", 1)]
    [InlineData("?vsn=1.0.12", 1)]
    [InlineData("?vsn=2.0.0", 2)]
    [InlineData("vsn=2.0.0", 2)]              // without the '?'
    [InlineData("?a=1&vsn=2.0.3&b", 2)]
    [InlineData("?vsn=9.9.9&vsn=2.0.0", 2)]   // the last one wins
    public void TryParse_Supported_Version(string query, int expected)
    {
        Assert.True(PhoenixVsn.TryParse(query, out var version));
        Assert.Equal((PhoenixVersion)expected, version);
    }

    [Theory]
    [InlineData("?vsn=")]
    [InlineData("?vsn")]
    [InlineData("?vsn=2")]
    [InlineData("?vsn=2.0")]
    [InlineData("?vsn=2.0.")]
    [InlineData("?vsn=2.1.0")]
    [InlineData("?vsn=3.0.0")]
    [InlineData("?vsn=0.0.1")]
    [InlineData("?vsn=2.0.0-rc.1")]
    [InlineData("?vsn=2.0.x")]
    [InlineData("?vsn=%202.0.0")]
    [InlineData("?vsn=2.0.0000000000")]                       // longer than any real patch
    [InlineData("?vsn=2.0.0&vsn=")]
    public void TryParse_Unsupported_Refused(string query)
    {
        Assert.False(PhoenixVsn.TryParse(query, out _));
    }
}
