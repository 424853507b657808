namespace Pulse.Broadcasting;

/// <summary>
/// Keeps cached snapshots true as time passes with no tweet: at each minute's turn every cached
/// event that is running (or ended within the last minute) is marked dirty, since its series gains
/// a zero point (docs/design.md §5: a new zero point is a change). Also forgets snapshots nobody watches
/// and nobody read for <see cref="IdleAfter"/>, so an event nobody watches costs nothing.
/// </summary>
internal sealed class MinuteRefresh(SnapshotService snapshots, IBroadcaster broadcaster, Ticker ticker, TimeProvider timeProvider) : IAsyncDisposable
{
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(10);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = RunAsync(_stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>One check; the loop calls it every second, tests call it directly.</summary>
    internal void OnMinute(DateTime now)
    {
        long nowStamp = timeProvider.GetTimestamp();
        foreach (var (id, startAt, endAt, lastRead) in snapshots.Cached())
        {
            if (startAt <= now && now < endAt.AddMinutes(1))
            {
                ticker.MarkDirty(id);
            }
            else if (!broadcaster.IsWatched(id) && timeProvider.GetElapsedTime(lastRead, nowStamp) > IdleAfter)
            {
                snapshots.Forget(id);
            }
        }
    }

    /// <summary>
    /// Every second: events whose counts are due for verification (docs/design.md §18) are marked dirty,
    /// so their next computation is the full read that verifies them, even with no tweet arriving.
    /// </summary>
    internal void OnSecond(DateTime now)
    {
        foreach (var id in snapshots.VerificationDue(now))
        {
            ticker.MarkDirty(id);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), timeProvider);
        long minute = MinuteOf(timeProvider.GetUtcNow().UtcDateTime);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            var now = timeProvider.GetUtcNow().UtcDateTime;
            OnSecond(now);
            long current = MinuteOf(now);
            if (current != minute)
            {
                minute = current;
                OnMinute(now);
            }
        }
    }

    /// <summary>
    /// The last minute that overlaps <c>[start_at, now)</c>, the series' last point (docs/design.md §5). At
    /// exactly hh:mm:00 the new minute does not overlap yet: a refresh then would compute the same
    /// numbers and the zero point would wait a whole minute for the next turn. So the turn is seen
    /// strictly after the boundary (the next second's check).
    /// </summary>
    internal static long MinuteOf(DateTime now) => (now.Ticks - 1) / TimeSpan.TicksPerMinute;
}
