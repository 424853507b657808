using Pulse.Diagnostics;

namespace Pulse.Storage;

/// <summary>
/// An in-memory copy of one small table (the active API keys, the event ids) and the rules for
/// re-reading it: lookups are answered from the copy and cost no statement; the copy follows the
/// table through NOTIFY, and a bounded number of re-reads covers what a NOTIFY cannot.
/// </summary>
/// <remarks>
/// <para><b>When the table is read.</b> (1) <see cref="Invalidate"/>: a NOTIFY from the table's trigger,
/// or the LISTEN connection (re)established (changes meanwhile were not heard). At once, never
/// throttled: it means the database answers. (2) <see cref="MissAsync"/>: a lookup found nothing. A
/// NOTIFY reaches the node a few milliseconds after the commit, so an id asked for in between (a key
/// used right after <c>pulse api-key create</c>, a join right after the event's INSERT) would be missed:
/// a miss may cause a read, but at most one per <see cref="MissInterval"/> for the whole table, not per
/// id, so a flood of random ids costs at most one statement a second. The caller waits for that read.
/// (3) <see cref="Touch"/>: a lookup found something in a copy older than <see cref="BackstopInterval"/>:
/// a read in the background. The backstop for a NOTIFY lost while the LISTEN connection looked alive
/// (a half-dead connection is found by its ping only within ~20 s); used for API keys only, at most
/// one read a second while keys are in use.</para>
/// <para><b>One read at a time.</b> A request while a read runs queues exactly one more, which starts when
/// the running one ends; everyone who asked meanwhile waits for that one. So a caller always waits
/// for a read that started after it asked, which sees every commit before the ask.</para>
/// <para><b>Failures.</b> A failed read leaves the copy as it was: what a node knew before an outage
/// keeps working through it. Reads of kinds (2) and (3) then back off (1 s doubling to 8 s), so a down
/// database sees a few attempts, not one per request; a read queued by them behind a read that failed
/// is not run (its waiters get the failure). The first failure of a streak is logged with its
/// exception, the recovery with the number of failed reads: two lines per outage. A miss never waits
/// longer than <see cref="MissWait"/> for a read (a database that hangs instead of refusing).</para>
/// <para><b>Thread safety.</b> All members may be called concurrently. <see cref="Current"/> is an
/// immutable value replaced whole; the scheduling state is guarded by one lock, taken only on misses,
/// reads and the backstop's due check, never on a hit in a fresh copy.</para>
/// </remarks>
internal sealed class TableCopy<T> : ICatalog, IAsyncDisposable where T : class
{
    /// <summary>Misses cause at most one read per interval, for the whole table.</summary>
    public static readonly TimeSpan MissInterval = TimeSpan.FromSeconds(1);

    /// <summary>A hit on a copy older than this starts a background read (when the owner touches).</summary>
    public static readonly TimeSpan BackstopInterval = TimeSpan.FromSeconds(1);

    /// <summary>Longest a miss waits for its read before it is answered from the copy as it is.</summary>
    public static readonly TimeSpan MissWait = TimeSpan.FromSeconds(2);

    internal static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(8);

    private readonly Func<CancellationToken, Task<T>> _read;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _stopping = new();
    private volatile T? _current;

    // Under _sync: the read running and the one queued behind it (null: none); whether the queued one
    // was asked for by Invalidate (the database answers: run it even after a failure).
    private Read? _running;
    private Read? _queued;
    private bool _queuedByInvalidate;
    private Task _loop = Task.CompletedTask;

    // Under _sync: when the last read started, when a miss last asked for one, the failure streak.
    private long _lastStart = long.MinValue;
    private long _lastMiss = long.MinValue;
    private int _failures;
    private long _failedAt;
    private long _failingSince;
    private TimeSpan _retryDelay;

    // Start of the last successful read; read without the lock by the backstop's fast path.
    private long _readAt = long.MinValue;

    // Timestamp before which Touch has nothing to do; written under _sync, read without it.
    private long _touchAfter = long.MinValue;

    /// <param name="table">The table, as its trigger names it in the NOTIFY payload.</param>
    /// <param name="read">Reads the whole table into a new immutable value.</param>
    public TableCopy(string table, Func<CancellationToken, Task<T>> read, TimeProvider time, ILogger logger)
    {
        Table = table;
        _read = read;
        _time = time;
        _logger = logger;
    }

    public string Table { get; }

    /// <summary>The last value read; null until the first read succeeded.</summary>
    public T? Current => _current;

    /// <summary>Reads started (any outcome); for tests.</summary>
    internal long Reads { get; private set; }

    /// <summary>Completes when the reads started so far (the running one and the one queued) are done; for tests.</summary>
    internal Task WhenIdle()
    {
        lock (_sync)
        {
            return _loop;
        }
    }

    /// <inheritdoc />
    public void Invalidate()
    {
        lock (_sync)
        {
            _ = RequestLocked(_time.GetTimestamp());
            _queuedByInvalidate |= _queued is not null;
        }
    }

    /// <summary>
    /// Reads the table (at start-up: so a node that loses the database later still knows what it knew);
    /// waits for a read already running instead of starting another. True when the read succeeded.
    /// </summary>
    public Task<bool> LoadAsync()
    {
        lock (_sync)
        {
            return _running?.Done.Task ?? RequestLocked(_time.GetTimestamp());
        }
    }

    /// <summary>
    /// A lookup found nothing: waits for a read when the rules allow one (see the remarks), else returns at
    /// once. True when <see cref="Current"/> can be trusted to say "absent": the latest read succeeded.
    /// </summary>
    public async ValueTask<bool> MissAsync(CancellationToken cancellationToken)
    {
        Task<bool>? read = null;
        bool trusted;
        lock (_sync)
        {
            long now = _time.GetTimestamp();
            if (_queued is not null)
            {
                // Someone already asked for a read that starts after this miss: waiting for it is free.
                read = _queued.Done.Task;
            }
            else if (_running is not null && _failures > 0)
            {
                // The database was down at the last read: the running one is the retry; queueing another
                // behind it would double every retry during an outage.
                read = _running.Done.Task;
            }
            else if (!BackingOffLocked(now) && (_lastMiss == long.MinValue || _time.GetElapsedTime(_lastMiss, now) >= MissInterval))
            {
                _lastMiss = now;
                read = RequestLocked(now);
            }

            trusted = _failures == 0 && _current is not null;
        }

        if (read is null)
        {
            return trusted;
        }

        try
        {
            return await read.WaitAsync(MissWait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// A lookup found something: when the copy is older than <see cref="BackstopInterval"/>, starts a
    /// read in the background (the caller does not wait). Costs a timestamp and a compare when fresh.
    /// </summary>
    public void Touch()
    {
        long now = _time.GetTimestamp();
        if (now < Volatile.Read(ref _touchAfter))
        {
            return;
        }

        lock (_sync)
        {
            long readAt = Volatile.Read(ref _readAt);
            if (_running is not null || BackingOffLocked(now)
                || (readAt != long.MinValue && _time.GetElapsedTime(readAt, now) < BackstopInterval)
                || (_lastStart != long.MinValue && _time.GetElapsedTime(_lastStart, now) < BackstopInterval))
            {
                return;
            }

            _ = RequestLocked(now);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task loop;
        lock (_sync)
        {
            loop = _loop;
        }

        await _stopping.CancelAsync();
        await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    /// <summary>The delay after failure number <paramref name="failures"/> (1-based): 1, 2, 4, 8, 8, … s.</summary>
    internal static TimeSpan Backoff(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks << Math.Min(failures - 1, 16)));

    private bool BackingOffLocked(long now) => _failures > 0 && _time.GetElapsedTime(_failedAt, now) < _retryDelay;

    /// <summary>Under _sync: the read that starts at or after <paramref name="now"/>: a new one, or the one queued.</summary>
    private Task<bool> RequestLocked(long now)
    {
        if (_stopping.IsCancellationRequested)
        {
            return Task.FromResult(false);
        }

        if (_running is not null)
        {
            _queued ??= new Read();
            return _queued.Done.Task;
        }

        var read = new Read();
        _running = read;
        _lastStart = now;
        Reads++;
        UpdateTouchAfterLocked();

        // Off the caller's thread: the caller may be the LISTEN loop or hold a request, and the read
        // must not run inline under this lock up to its first await.
        _loop = Task.Run(() => RunAsync(read));
        return read.Done.Task;
    }

    private async Task RunAsync(Read read)
    {
        while (true)
        {
            bool succeeded = await ReadOnceAsync();
            Read? next;
            Read? dropped = null;
            lock (_sync)
            {
                next = _queued;
                _queued = null;

                // After a failure, a read queued by a miss or the backstop would fail the same way a moment
                // later: its waiters get the failure now, and only a NOTIFY or LISTEN's return reads again.
                if (next is not null && (_stopping.IsCancellationRequested || (!succeeded && !_queuedByInvalidate)))
                {
                    dropped = next;
                    next = null;
                }

                _queuedByInvalidate = false;
                _running = next;
                if (next is not null)
                {
                    _lastStart = _time.GetTimestamp();
                    Reads++;
                    UpdateTouchAfterLocked();
                }
            }

            // Completed after the state above: a waiter that resumes sees this read as over.
            read.Done.TrySetResult(succeeded);
            dropped?.Done.TrySetResult(false);
            if (next is null)
            {
                return;
            }

            read = next;
        }
    }

    private async Task<bool> ReadOnceAsync()
    {
        long started = _time.GetTimestamp();
        T value;
        try
        {
            value = await _read(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e)
        {
            Failed(started, e);
            return false;
        }

        _current = value;
        Volatile.Write(ref _readAt, started);
        int failures;
        long since;
        lock (_sync)
        {
            failures = _failures;
            since = _failingSince;
            _failures = 0;
            UpdateTouchAfterLocked();
        }

        if (failures > 0)
        {
            StorageLog.CopyRecovered(_logger, Table, failures, (long)_time.GetElapsedTime(since).TotalMilliseconds);
        }

        return true;
    }

    private void Failed(long started, Exception exception)
    {
        int failures;
        TimeSpan delay;
        lock (_sync)
        {
            failures = ++_failures;
            if (failures == 1)
            {
                _failingSince = started;
            }

            _failedAt = _time.GetTimestamp();
            _retryDelay = delay = Backoff(failures);
            UpdateTouchAfterLocked();
        }

        // One line per outage; the recovery line carries the count.
        if (failures == 1)
        {
            long readAt = Volatile.Read(ref _readAt);
            if (readAt == long.MinValue)
            {
                StorageLog.CopyUnavailable(_logger, Table, (long)delay.TotalMilliseconds, exception);
            }
            else
            {
                StorageLog.CopyReadFailed(_logger, Table, (long)_time.GetElapsedTime(readAt).TotalMilliseconds, (long)delay.TotalMilliseconds, exception);
            }
        }
    }

    // Under _sync: the earliest moment Touch could start a read; before it, a hit only compares a timestamp.
    private void UpdateTouchAfterLocked()
    {
        long after = Math.Max(_lastStart, Volatile.Read(ref _readAt));
        after = after == long.MinValue ? long.MinValue : after + ToTimestamp(BackstopInterval);
        if (_failures > 0)
        {
            after = Math.Max(after, _failedAt + ToTimestamp(_retryDelay));
        }

        Volatile.Write(ref _touchAfter, after);
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private sealed class Read
    {
        public readonly TaskCompletionSource<bool> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
