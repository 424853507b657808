namespace Pulse.Demo;

/// <summary>
/// Tweets collected for one INSERT, column by column: <see cref="DemoStore.InsertAsync"/> sends each
/// column as one array parameter and the server unnests them, so a batch of any size is two statements.
/// </summary>
internal sealed class TweetBatch
{
    public List<Guid> EntryIds { get; } = [];

    /// <summary>The hashtags of each entry, space-separated (a hashtag has no space); split by the server.</summary>
    public List<string> Hashtags { get; } = [];

    public List<string> Texts { get; } = [];

    public List<DateTime> EntryTimes { get; } = [];

    public List<Guid> LinkEntryIds { get; } = [];

    public List<Guid> LinkKeywordIds { get; } = [];

    public List<DateTime> LinkTimes { get; } = [];

    public int Count => EntryIds.Count;

    /// <summary>One tweet at <paramref name="at"/> (UTC) matching each of <paramref name="keywords"/>.</summary>
    public void Add(DateTime at, string text, IReadOnlyList<DemoKeyword> keywords)
    {
        // Version 7: time-ordered ids, so the primary-key index grows at its right edge.
        var id = Guid.CreateVersion7(new DateTimeOffset(at));
        EntryIds.Add(id);
        Hashtags.Add(string.Join(' ', keywords.Select(k => k.Hashtag)));
        Texts.Add(text);
        EntryTimes.Add(at);
        foreach (var keyword in keywords)
        {
            LinkEntryIds.Add(id);
            LinkKeywordIds.Add(keyword.Id);
            LinkTimes.Add(at);
        }
    }

    public void Clear()
    {
        EntryIds.Clear();
        Hashtags.Clear();
        Texts.Clear();
        EntryTimes.Clear();
        LinkEntryIds.Clear();
        LinkKeywordIds.Clear();
        LinkTimes.Clear();
    }
}
