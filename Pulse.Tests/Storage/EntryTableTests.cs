namespace Pulse.Tests.Storage;

/// <summary>The entry table of docs/design.md §18: one slot per entry, its earliest minute, bounded bytes.</summary>
[Trait("Category", "unit")] public sealed class EntryTableTests
{
    [Fact]
    public void Fold_NewEntry_AddedOnce_EarlierMinuteLowers_LaterKeeps()
    {
        var table = new EntryTable();
        var entry = Guid.NewGuid();

        Assert.Equal(-1, table.Fold(entry, 10));
        Assert.Equal(10, table.Fold(entry, 12));
        Assert.Equal(10, table.MinuteOf(entry));
        Assert.Equal(10, table.Fold(entry, 3));
        Assert.Equal(3, table.MinuteOf(entry));
        Assert.Equal(1, table.Count);
        Assert.Equal(-1, table.MinuteOf(Guid.NewGuid()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fold_HundredThousandEntries_AllFoundAfterGrowth_BytesPerEntryBetween25And37_5(bool timeOrdered)
    {
        var table = new EntryTable();
        var entries = new Guid[100_000];
        for (int i = 0; i < entries.Length; i++)
        {
            // Time-ordered ids (UUIDv7) differ in few bits at a time: the hash must still spread them.
            entries[i] = timeOrdered ? Guid.CreateVersion7(DateTimeOffset.UnixEpoch.AddMilliseconds(i)) : Guid.NewGuid();
            Assert.Equal(-1, table.Fold(entries[i], i % 120));
        }

        Assert.Equal(entries.Length, table.Count);
        for (int i = 0; i < entries.Length; i++)
        {
            Assert.Equal(i % 120, table.MinuteOf(entries[i]));
        }

        double perEntry = (double)table.Bytes / table.Count;
        Assert.InRange(perEntry, 25, 37.5);
    }

    [Fact]
    public void ForEach_VisitsEveryEntryOnceWithItsMinute()
    {
        var table = new EntryTable();
        var expected = Enumerable.Range(0, 1000).ToDictionary(_ => Guid.NewGuid(), i => i % 7);
        foreach (var (entry, minute) in expected)
        {
            table.Fold(entry, minute);
        }

        var seen = new Dictionary<Guid, int>();
        table.ForEach(ref seen, static (ref Dictionary<Guid, int> s, Guid entry, int minute) => s.Add(entry, minute));
        Assert.Equal(expected.OrderBy(p => p.Key), seen.OrderBy(p => p.Key));
    }
}
