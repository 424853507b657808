namespace Pulse.Storage;

/// <summary>
/// What one event's numbers are made of, kept in memory between ticks (docs/design.md §18): the event's
/// header, per side the entries counted with the minute of their first link, the side's count and
/// per-minute counts, the number of distinct entries (<c>total</c>), and the database snapshot the state
/// is exact for. A tick folds the links committed since that snapshot; the view model is derived.
/// </summary>
/// <remarks>
/// Folding is idempotent: a link read twice, or a second link of an entry, changes a minute only when it
/// is earlier than the one held, and never adds a count twice. Not thread-safe: used under the event's gate.
/// </remarks>
internal sealed class CountingState
{
    private readonly EntryTable[] _entries;
    private readonly int[] _counts;
    private readonly int[][] _minutes;

    /// <param name="header">The event as the read saw it.</param>
    /// <param name="snapshot">The read's <c>pg_snapshot</c>.</param>
    /// <param name="sizeHint">The state this one replaces, if any: each side's table starts at its size.</param>
    public CountingState(EventHeader header, string snapshot, CountingState? sizeHint = null)
    {
        Header = header;
        Snapshot = snapshot;
        int sides = header.Sides.Count;
        _entries = new EntryTable[sides];
        _counts = new int[sides];
        _minutes = new int[sides][];
        for (int side = 0; side < sides; side++)
        {
            _entries[side] = new EntryTable(sizeHint is not null && sizeHint._entries.Length == sides ? sizeHint._entries[side].Count : 0);
            _minutes[side] = [];
        }
    }

    public EventHeader Header { get; set; }

    /// <summary>The <c>pg_snapshot</c> (text form) of the transaction whose committed links are all folded in.</summary>
    public string Snapshot { get; set; }

    /// <summary>Distinct entries counted over all sides.</summary>
    public int Total { get; private set; }

    /// <summary>(side, entry) records held: the unit of the memory budget and of drift.</summary>
    public long Records
    {
        get
        {
            long records = 0;
            foreach (var table in _entries)
            {
                records += table.Count;
            }

            return records;
        }
    }

    /// <summary>Bytes held by the tables and the per-minute counts.</summary>
    public long Bytes
    {
        get
        {
            long bytes = 0;
            for (int side = 0; side < _entries.Length; side++)
            {
                bytes += _entries[side].Bytes + (4L * _minutes[side].Length);
            }

            return bytes;
        }
    }

    /// <summary>
    /// Folds one link of <paramref name="entry"/> on <paramref name="side"/>, created at
    /// <paramref name="createdAt"/> inside the window. Returns true when a number changed.
    /// </summary>
    public bool Fold(int side, Guid entry, DateTime createdAt)
    {
        int minute = (int)((createdAt.Ticks - Header.FirstMinute.Ticks) / TimeSpan.TicksPerMinute);
        int old = _entries[side].Fold(entry, minute);
        if (old >= 0 && old <= minute)
        {
            return false;
        }

        ref int[] minutes = ref _minutes[side];
        if (minute >= minutes.Length)
        {
            Array.Resize(ref minutes, Math.Max(minute + 1, Math.Min(minutes.Length * 2, minute + 1024)));
        }

        minutes[minute]++;
        if (old >= 0)
        {
            minutes[old]--;
            return true;
        }

        _counts[side]++;
        if (!OnOtherSide(side, entry))
        {
            Total++;
        }

        return true;
    }

    /// <summary>
    /// The view model at <paramref name="now"/>: the series runs from the minute of <c>start_at</c> to the
    /// minute before <c>min(now, end_at)</c>, or to the latest counted minute when that is later (as the full
    /// statement of <see cref="ViewModelQuery"/> computes it).
    /// </summary>
    public ViewModel ToViewModel(Guid eventId, DateTime now)
    {
        var header = Header;
        int points = LastMinute(now) + 1;
        var queries = new List<QuerySeries>(_entries.Length);
        for (int side = 0; side < _entries.Length; side++)
        {
            var series = new int[points];
            var minutes = _minutes[side];
            Array.Copy(minutes, series, Math.Min(points, minutes.Length));
            queries.Add(new QuerySeries(header.Sides[side], _counts[side], series));
        }

        return new ViewModel
        {
            EventId = eventId,
            Name = header.Name,
            StartAt = header.StartAt,
            EndAt = header.EndAt,
            FirstMinute = header.FirstMinute,
            Total = Total,
            Queries = queries,
        };
    }

    /// <summary>
    /// The (side, entry) records in which this state and <paramref name="exact"/> (same sides) differ: an
    /// entry missing from either, or counted in another minute. Zero when the numbers are exact.
    /// </summary>
    public long DifferingRecords(CountingState exact)
    {
        long differing = 0;
        for (int side = 0; side < _entries.Length; side++)
        {
            var compare = new Comparison(_entries[side]);
            exact._entries[side].ForEach(ref compare, static (ref Comparison c, Guid entry, int minute) =>
            {
                int held = c.Held.MinuteOf(entry);
                c.Found += held >= 0 ? 1 : 0;
                c.Differing += held == minute ? 0 : 1;
            });
            differing += compare.Differing + (_entries[side].Count - compare.Found);
        }

        return differing;
    }

    // Before the last point: the minute that ends at or after min(now, end_at), both in PostgreSQL's
    // microseconds (Npgsql sends now truncated to them), and the latest minute with a counted entry.
    private int LastMinute(DateTime now)
    {
        var header = Header;
        long limit = Math.Min(now.Ticks - (now.Ticks % 10), header.EndAt.Ticks);
        int last = limit > header.StartAt.Ticks ? (int)((limit - 10 - header.FirstMinute.Ticks) / TimeSpan.TicksPerMinute) : -1;
        foreach (var minutes in _minutes)
        {
            for (int i = minutes.Length - 1; i > last; i--)
            {
                if (minutes[i] != 0)
                {
                    last = i;
                    break;
                }
            }
        }

        return last;
    }

    private bool OnOtherSide(int side, Guid entry)
    {
        for (int other = 0; other < _entries.Length; other++)
        {
            if (other != side && _entries[other].MinuteOf(entry) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private struct Comparison(EntryTable held)
    {
        public readonly EntryTable Held = held;
        public long Found;
        public long Differing;
    }
}

/// <summary>
/// The event's own columns and its sides as one read saw them. <see cref="Keywords"/> (ids and queries)
/// tells whether the links read so far still mean the same sides; when it or the window changes, the
/// state is read again in full.
/// </summary>
internal sealed record EventHeader(string Name, DateTime StartAt, DateTime EndAt, DateTime FirstMinute, IReadOnlyList<string> Sides, string Keywords)
{
    /// <summary>True when links folded under <paramref name="other"/> count the same way under this header.</summary>
    public bool SameCounting(EventHeader other) =>
        StartAt == other.StartAt && EndAt == other.EndAt && string.Equals(Keywords, other.Keywords, StringComparison.Ordinal);
}
