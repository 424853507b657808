namespace Pulse.Tests.Phoenix;

[Trait("Category", "unit")] public sealed class EventTopicTests
{
    private static readonly Guid Id = Guid.Parse("6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10");

    [Fact]
    public void Format_AnyId_LowerCaseTopic()
    {
        Assert.Equal("event:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10", EventTopic.Format(Id));
    }

    [Theory]
    [InlineData("event:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10")]
    [InlineData("EVENT:6F1C2F4E-0A53-4D7E-9A55-2B7E4D4F2A10")]
    [InlineData("Event:6f1c2f4e-0A53-4d7e-9a55-2b7e4d4f2a10")]
    public void TryParse_PrefixAndIdInAnyCase_ReadsTheId(string topic)
    {
        Assert.True(EventTopic.TryParse(topic, out var id));
        Assert.Equal(Id, id);
        Assert.Equal(EventTopic.Format(Id), EventTopic.Canonical(topic));
    }

    [Theory]
    [InlineData("event:6f1c2f4e0a534d7e9a552b7e4d4f2a10")]
    [InlineData("event:{6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10}")]
    [InlineData("event:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10 ")]
    [InlineData("event: 6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10")]
    [InlineData("room:6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10")]
    [InlineData("6f1c2f4e-0a53-4d7e-9a55-2b7e4d4f2a10")]
    [InlineData("event:")]
    [InlineData("")]
    public void TryParse_NotAnEventTopic_FalseAndCanonicalUnchanged(string topic)
    {
        Assert.False(EventTopic.TryParse(topic, out var id));
        Assert.Equal(Guid.Empty, id);
        Assert.Equal(topic, EventTopic.Canonical(topic));
    }
}
