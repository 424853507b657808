namespace Pulse.Tests.Storage;

/// <summary>
/// Folding links into the counting state (docs/design.md §18) gives the numbers of §5: an entry counts
/// once per side in the minute of its earliest link, once in total, and folding is idempotent.
/// </summary>
[Trait("Category", "unit")] public sealed class CountingStateTests
{
    private static readonly DateTime Start = new(2026, 11, 27, 20, 0, 17, DateTimeKind.Utc);
    private static readonly EventHeader Header = new("Cup", Start, Start.AddHours(2), new DateTime(2026, 11, 27, 20, 0, 0, DateTimeKind.Utc), ["A", "B"], "k");

    [Fact]
    public void Fold_SecondLinkEarlierMovesMinute_LaterOrRepeatedChangesNothing()
    {
        var state = new CountingState(Header, "1:1:");
        var entry = Guid.NewGuid();

        Assert.True(state.Fold(0, entry, Start.AddMinutes(5)));
        Assert.False(state.Fold(0, entry, Start.AddMinutes(5)));
        Assert.False(state.Fold(0, entry, Start.AddMinutes(9)));
        Assert.True(state.Fold(0, entry, Start.AddMinutes(2)));

        var model = state.ToViewModel(Guid.Empty, Start.AddMinutes(10));
        Assert.Equal(1, model.Queries[0].Count);
        Assert.Equal(1, model.Queries[0].Minutes[2]);
        Assert.Equal(1, model.Queries[0].Minutes.Sum());
        Assert.Equal(1, model.Total);
    }

    [Fact]
    public void Fold_EntryOnTwoSides_CountsOnEachSideOnceInTotal()
    {
        var state = new CountingState(Header, "1:1:");
        var entry = Guid.NewGuid();
        state.Fold(0, entry, Start.AddMinutes(1));
        state.Fold(1, entry, Start.AddMinutes(3));
        state.Fold(1, Guid.NewGuid(), Start.AddMinutes(3));

        var model = state.ToViewModel(Guid.Empty, Start.AddMinutes(10));
        Assert.Equal((1, 2, 2), (model.Queries[0].Count, model.Queries[1].Count, model.Total));
        Assert.Equal(3, state.Records);
    }

    [Theory]
    // now 20:10:00 exactly: the last point is 20:09 (the minute of now itself does not overlap yet).
    [InlineData(583 * TimeSpan.TicksPerSecond, 10)]
    // now 20:10:00.000001: 20:10 overlaps, 11 points.
    [InlineData((583 * TimeSpan.TicksPerSecond) + 10, 11)]
    // now before the start: no point at all.
    [InlineData(-5 * TimeSpan.TicksPerSecond, 0)]
    // now after the end: points up to the end's minute (end 22:00:17 → 22:00 overlaps).
    [InlineData(4 * TimeSpan.TicksPerHour, 121)]
    public void ToViewModel_SeriesRunsToTheMinuteBeforeNow(long ticksAfterStart, int points)
    {
        var state = new CountingState(Header, "1:1:");
        var model = state.ToViewModel(Guid.Empty, Start.AddTicks(ticksAfterStart));
        Assert.All(model.Queries, q => Assert.Equal(points, q.Minutes.Length));
    }

    [Fact]
    public void ToViewModel_RowAheadOfNow_ExtendsSeriesToItsMinute()
    {
        var state = new CountingState(Header, "1:1:");
        state.Fold(1, Guid.NewGuid(), Start.AddMinutes(30));

        var model = state.ToViewModel(Guid.Empty, Start.AddMinutes(5));
        Assert.Equal(31, model.Queries[0].Minutes.Length);
        Assert.Equal(1, model.Queries[1].Minutes[30]);
    }

    [Fact]
    public void DifferingRecords_MissingMovedAndExtraRecordsCounted()
    {
        var (kept, moved, gone, added) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var held = new CountingState(Header, "1:1:");
        var exact = new CountingState(Header, "1:1:");
        held.Fold(0, kept, Start.AddMinutes(1));
        exact.Fold(0, kept, Start.AddMinutes(1));
        held.Fold(0, moved, Start.AddMinutes(4));
        exact.Fold(0, moved, Start.AddMinutes(2));
        held.Fold(1, gone, Start.AddMinutes(1));
        exact.Fold(1, added, Start.AddMinutes(1));

        Assert.Equal(3, held.DifferingRecords(exact));
        Assert.Equal(0, exact.DifferingRecords(exact));
    }
}
