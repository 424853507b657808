namespace Pulse.Tests.Broadcasting;

[Trait("Category", "unit")] public sealed class NotificationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(254)]
    [InlineData(255)]
    public void CheckEventName_OneTo255Characters_Accepted(int length)
    {
        Assert.Null(Notification.CheckEventName(new string('é', length)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void CheckEventName_EmptyOrOver255Characters_Problem(int length)
    {
        Assert.Equal("event must be 1 to 255 characters", Notification.CheckEventName(new string('a', length)));
    }

    [Theory]
    [InlineData("phx_reply")]
    [InlineData("phx_")]
    public void CheckEventName_PhoenixPrefix_Problem(string name)
    {
        Assert.Equal("event must not start with phx_ (reserved by the Phoenix protocol)", Notification.CheckEventName(name));
    }

    [Theory]
    [InlineData("PHX_reply")]
    [InlineData("phx")]
    [InlineData("goal_phx_")]
    public void CheckEventName_PrefixOnlyInExactCase_Accepted(string name)
    {
        Assert.Null(Notification.CheckEventName(name));
    }
}
