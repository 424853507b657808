namespace Pulse.Storage;

/// <summary>
/// The numbers of one event (docs/design.md §5) as computed, before a version is given. Per-minute counts
/// are kept as one array per query starting at <see cref="FirstMinute"/>: the JSON's
/// <c>time_series</c> dates are derived from the index, so nothing is stored twice.
/// </summary>
internal sealed class ViewModel
{
    public required Guid EventId { get; init; }

    public required string Name { get; init; }

    public required DateTime StartAt { get; init; }

    public required DateTime EndAt { get; init; }

    public required int Total { get; init; }

    /// <summary>The minute of the first point (the minute of <c>start_at</c>), UTC.</summary>
    public required DateTime FirstMinute { get; init; }

    /// <summary>In ordinal (code point) order of <see cref="QuerySeries.Query"/>.</summary>
    public required IReadOnlyList<QuerySeries> Queries { get; init; }

    /// <summary>True when everything but <c>computed_at</c> is equal: no new version, no broadcast.</summary>
    public bool SameAs(ViewModel? other)
    {
        if (other is null || other.EventId != EventId || other.Name != Name || other.StartAt != StartAt || other.EndAt != EndAt
            || other.Total != Total || other.FirstMinute != FirstMinute || other.Queries.Count != Queries.Count)
        {
            return false;
        }

        for (int i = 0; i < Queries.Count; i++)
        {
            var (a, b) = (Queries[i], other.Queries[i]);
            if (a.Query != b.Query || a.Count != b.Count || !a.Minutes.AsSpan().SequenceEqual(b.Minutes))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One side of the battle: its count and one count per minute from the event's first minute.</summary>
internal sealed record QuerySeries(string Query, int Count, int[] Minutes);
