namespace Pulse.Tests.Storage;

/// <summary>The delta's second bound: the transactions in progress at the previous snapshot (docs/design.md §18).</summary>
[Trait("Category", "unit")] public sealed class CountingReadTests
{
    [Theory]
    [InlineData("50612:50612:", "{}")]
    [InlineData("100:120:105", "{105}")]
    [InlineData("100:120:105,111,119", "{105,111,119}")]
    public void InProgress_SnapshotText_ArrayLiteralOfItsXip(string snapshot, string expected) =>
        Assert.Equal(expected, CountingRead.InProgress(snapshot));
}
