namespace Pulse.Diagnostics;

/// <summary>
/// Rate-limits one kind of repeated error line: the first failure is logged at once, later ones at
/// most once per <see cref="Interval"/> with the count suppressed meanwhile. While PostgreSQL is down
/// every tick fails for every dirty event (2 a second × N events); without this, an outage of a
/// minute with 500 watched events would write 60,000 stack traces.
/// </summary>
/// <remarks>Thread safety: all members may be called concurrently; lock-free.</remarks>
internal sealed class LogLimiter(TimeProvider timeProvider, TimeSpan interval)
{
    /// <summary>The default quiet interval between two lines of one kind.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    // Failures seen since the last line written (0 while healthy).
    private long _pending;

    // Timestamp of the last line written; long.MinValue: none since the last recovery.
    private long _lastLogged = long.MinValue;

    public TimeSpan Interval { get; } = interval;

    /// <summary>
    /// Records one failure; true when this one should be logged, with <paramref name="suppressed"/> the
    /// failures not logged since the previous line.
    /// </summary>
    public bool ShouldLog(out long suppressed)
    {
        long pending = Interlocked.Increment(ref _pending);
        long now = timeProvider.GetTimestamp();
        long last = Volatile.Read(ref _lastLogged);
        if (last != long.MinValue && timeProvider.GetElapsedTime(last, now) < Interval)
        {
            suppressed = 0;
            return false;
        }

        // One winner per interval: the thread that moves the stamp.
        if (Interlocked.CompareExchange(ref _lastLogged, now, last) != last)
        {
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref _pending, 0) - 1;
        return true;
    }

    /// <summary>
    /// A success: true when failures had been seen since the last recovery (so "recovered" is worth a
    /// line), with <paramref name="failures"/> the ones not yet reported. The next failure logs at once.
    /// </summary>
    public bool Recovered(out long failures)
    {
        if (Volatile.Read(ref _lastLogged) == long.MinValue)
        {
            failures = 0;
            return false;
        }

        failures = Interlocked.Exchange(ref _pending, 0);
        return Interlocked.Exchange(ref _lastLogged, long.MinValue) != long.MinValue;
    }
}
