namespace Pulse.Tests.Storage;

/// <summary>
/// The delta's bounds (docs/design.md §18): the transactions in progress at the previous snapshot, and the
/// one snapshot a grouped read uses for events last read at different ones.
/// </summary>
[Trait("Category", "unit")] public sealed class CountingReadTests
{
    [Theory]
    [InlineData("50612:50612:", "{}")]
    [InlineData("100:120:105", "{105}")]
    [InlineData("100:120:105,111,119", "{105,111,119}")]
    public void InProgress_SnapshotText_ArrayLiteralOfItsXip(string snapshot, string expected) =>
        Assert.Equal(expected, CountingRead.InProgress(snapshot));

    [Theory]
    [InlineData(new[] { "100:120:105" }, "100:120:105")]
    // The least xmax; every id in progress at any of them below it, once, ascending; the least xmin.
    [InlineData(new[] { "100:120:105,111", "90:115:95,105,114" }, "90:115:95,105,111,114")]
    // An id in progress at the later snapshot but at or past the least xmax is read by the range arm.
    [InlineData(new[] { "100:120:105,118", "100:110:" }, "100:110:105")]
    [InlineData(new[] { "7:7:", "9:12:10" }, "7:7:")]
    public void Covering_Snapshots_LeastXmaxAndEveryUnseenIdBelowIt(string[] snapshots, string expected) =>
        Assert.Equal(expected, CountingRead.Covering(snapshots));

    [Fact]
    public void ByLag_OneStateReadLongBefore_InAStatementOfItsOwn()
    {
        // Three states read at the last tick, one thousands of transactions before (an ended battle).
        string[] snapshots = ["5000:5010:5003", "5002:5012:", "1000:1001:", "5001:5011:"];

        Assert.Equal([[1, 3, 0], [2]], CountingRead.ByLag(snapshots));
    }

    [Theory]
    [InlineData(CountingRead.MaxCoveringLag - 1, 1)]
    [InlineData(CountingRead.MaxCoveringLag, 1)]
    [InlineData(CountingRead.MaxCoveringLag + 1, 2)]
    public void ByLag_LagAtTheBound_TogetherUpToItApartPastIt(ulong lag, int statements)
    {
        const ulong Newest = 1_000_000;
        string[] snapshots = [$"{Newest - 5}:{Newest}:", $"{Newest - lag - 5}:{Newest - lag}:"];

        Assert.Equal(statements, CountingRead.ByLag(snapshots).Count);
    }
}
