using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// The ids of every event, in memory, so "is this an event?" (joins, <c>GET /v1/events/{id}</c>, the
/// dashboard page, <c>POST /v1/events</c>) costs no statement. A random id from a hostile or mistaken
/// client is answered "not found" from the copy: at most one re-read a second for all of them together.
/// </summary>
/// <remarks>
/// Events are few (a battle is hours of work to set up): 10,000 ids cost ~0.5 MB here (16-byte Guid plus
/// the set's ~20 bytes of entry overhead each, doubled for the set being replaced during a read) and one
/// re-read moves 160 KB, a few milliseconds. The copy follows the table through the trigger of migration
/// 003 (INSERT, UPDATE, DELETE, TRUNCATE on <c>events</c>); <see cref="TableCopy{T}"/> states when else it
/// is read. The rule for an id not in the copy: it may be re-checked by one re-read of the whole table,
/// at most once per second in total (not per id), so an event found in the window between its INSERT's
/// commit and that NOTIFY's re-read (a few ms) is still found at once, and a flood of unknown ids costs at
/// most one statement a second. During an outage unknown ids are answered from the copy (not found), as
/// the last state the database told.
/// </remarks>
internal sealed class EventCatalog : ICatalog, IAsyncDisposable
{
    private const string Sql = "SELECT id FROM events";
    private readonly TableCopy<HashSet<Guid>> _copy;

    public EventCatalog(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger logger) =>
        _copy = new TableCopy<HashSet<Guid>>("events", ct => ReadAsync(dataSource, ct), timeProvider, logger);

    public string Table => _copy.Table;

    /// <summary>The copy and its counters; for tests.</summary>
    internal TableCopy<HashSet<Guid>> Copy => _copy;

    /// <summary>
    /// True when <paramref name="eventId"/> is an event. No statement when the copy has it; else at most the
    /// shared re-read of <see cref="TableCopy{T}.MissAsync"/>.
    /// </summary>
    /// <exception cref="CatalogUnavailableException">No copy was ever read (the database was down since start-up).</exception>
    public ValueTask<bool> ExistsAsync(Guid eventId, CancellationToken cancellationToken)
    {
        var ids = _copy.Current;
        return ids is not null && ids.Contains(eventId) ? ValueTask.FromResult(true) : MissAsync(eventId, cancellationToken);
    }

    /// <inheritdoc />
    public void Invalidate() => _copy.Invalidate();

    /// <summary>Reads the ids now (start-up); true when it worked.</summary>
    public Task<bool> LoadAsync() => _copy.LoadAsync();

    public ValueTask DisposeAsync() => _copy.DisposeAsync();

    private async ValueTask<bool> MissAsync(Guid eventId, CancellationToken cancellationToken)
    {
        await _copy.MissAsync(cancellationToken);
        var ids = _copy.Current ?? throw new CatalogUnavailableException(Table);
        return ids.Contains(eventId);
    }

    private static async Task<HashSet<Guid>> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        await using var command = dataSource.CreateCommand(Sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
