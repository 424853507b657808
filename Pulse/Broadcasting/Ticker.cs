using System.Collections.Concurrent;
using Pulse.Configuration;
using Pulse.Diagnostics;

namespace Pulse.Broadcasting;

/// <summary>
/// Coalesces notifications per event into tick windows and runs the injected
/// <see cref="ISnapshotComputation"/> (docs/design.md §8): at most one computation per event per window, a leading edge at once, a trailing
/// edge when the window ends, the last notification never dropped.
/// </summary>
/// <remarks>
/// <para><b>Windows.</b> One <see cref="PeriodicTimer"/> for the process ticks every
/// <see cref="BroadcastOptions.TickMilliseconds"/>; each tick opens a new window (a counter, so the
/// notify path reads no clock). A computation records the window it started in. Windows are the
/// tick grid, not a sliding interval: a leading edge late in one window and the trailing edge at its
/// tick may be closer than a window, but no window holds two starts, so a flood gets exactly one
/// computation per tick (2 a second at 500 ms).</para>
/// <para><b>Intake.</b> <see cref="Notify"/> marks the event's <see cref="TickerEventState"/> dirty
/// and remembers the name; there is no queue of notifications. A flood only rewrites one flag and
/// one reference per event (memory flat), and since the flag is cleared <em>before</em> a
/// computation reads the database, a notification that lands during it sets the flag again and
/// causes one more computation: the last notification is never lost. A channel of notifications
/// would add a hop and buffer what the flag already says.</para>
/// <para><b>Names.</b> The flag and the name are taken together when a claimed computation starts
/// (<see cref="TickerEventState.TakePending"/>), before it reads: a notification that lands after the
/// take sets the flag again and is computed in the next window under its own name, and an unnamed mark
/// (<see cref="MarkDirty"/> from a minute's turn) never replaces a pending POSTed name with
/// <c>"update"</c> (docs/design.md §7). The ticker holds no queue of its own between claim and start:
/// the database work is bounded where it is done (<see cref="ISnapshotComputation"/>: full reads take
/// one of <see cref="BroadcastOptions.MaxConcurrentComputations"/> slots; delta reads of all events go
/// as one statement at a time), so a burst of leading edges over many battles costs a few grouped
/// statements instead of queueing behind a slot per battle (measured: a flood starting on 100 battles
/// held a probe on an idle battle 70 to 100 ms behind 25 rounds of four).</para>
/// <para><b>Edges.</b> Leading: a notification for an idle event not computed in the current window
/// starts the computation from <see cref="Notify"/> itself. Trailing: notifications during the
/// window or during the computation leave the flag set; the next tick (or the end of a computation
/// that outlived its window) starts exactly one more.</para>
/// <para><b>Threading.</b> <see cref="Notify"/>, <see cref="MarkDirty"/> and
/// <see cref="MarkAllDirty"/> are safe from any thread and lock-free. The computation starts on the
/// thread that claims the event (a notifier or the tick) and runs inline until its first
/// <c>await</c>, so it must not block before its first I/O. One event never has two computations at
/// once (the claim); completions run on whatever thread finished the computation.</para>
/// <para><b>Failures.</b> An exception from the computation keeps the event dirty, is logged and is
/// retried in a later window. The log is rate-limited (<see cref="LogLimiter"/>: the first failure,
/// then one line per 30 s with the count); the computation counts its own database errors.</para>
/// </remarks>
internal sealed partial class Ticker : INotificationSink, IAsyncDisposable
{
    /// <summary>
    /// An event idle this many windows loses its state (120 × 500 ms = 1 min): days of battles leave
    /// nothing behind, and an event that wakes up again costs one allocation.
    /// </summary>
    internal const int IdleWindowsBeforeRemoval = 120;

    /// <summary><see cref="IdleWindowsBeforeRemoval"/>; lower only in tests that race removal.</summary>
    internal int IdleWindows { get; init; } = IdleWindowsBeforeRemoval;

    private readonly ConcurrentDictionary<Guid, TickerEventState> _states = new();
    private readonly ISnapshotComputation _computation;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PulseMetrics _metrics;
    private readonly LogLimiter _failureLog;
    private readonly TimeSpan _period;
    private readonly int _periodMs;

    // Cancelled by StopAsync: no new claims, and running computations see their token cancelled.
    private readonly CancellationTokenSource _stopping = new();

    // Completed when the last in-flight computation ends after StopAsync began.
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Lock _stopLock = new();
    private Task? _stop;
    private long _window;
    private int _inFlight;
    private Task? _loop;

    /// <param name="options">The window.</param>
    /// <param name="timeProvider">Clock of the timer and of the overrun checks.</param>
    /// <param name="computation">Computes and broadcasts one event (see <see cref="ISnapshotComputation"/>).</param>
    /// <param name="logger">Where <see cref="BroadcastingLog"/> writes.</param>
    /// <param name="metrics">Where notifications are counted.</param>
    public Ticker(BroadcastOptions options, TimeProvider timeProvider, ISnapshotComputation computation, ILogger logger, PulseMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TickMilliseconds, 1);
        _periodMs = options.TickMilliseconds;
        _period = TimeSpan.FromMilliseconds(_periodMs);
        _timeProvider = timeProvider;
        _computation = computation;
        _logger = logger;
        _metrics = metrics;
        _failureLog = new LogLimiter(timeProvider, LogLimiter.DefaultInterval);
    }

    /// <summary>Events with state (dirty, running, or computed within the last minute).</summary>
    internal int StateCount => _states.Count;

    /// <summary>For tests that stage a race outcome (a state removed under a notifier).</summary>
    internal ConcurrentDictionary<Guid, TickerEventState> States => _states;

    /// <summary>Takes a notification: counts it and marks its event dirty (leading edge when due).</summary>
    public void Notify(Notification notification)
    {
        _metrics.NotificationTaken();
        MarkDirty(notification.EventId, notification.EventName);
    }

    /// <summary>
    /// Marks one event dirty without a notification, e.g. when a watched event's minute turns (a new
    /// zero point). <paramref name="eventName"/> <c>null</c> keeps a pending notification's name, else
    /// the computation broadcasts <c>"update"</c>.
    /// </summary>
    public void MarkDirty(Guid eventId, string? eventName = null)
    {
        TickerEventState state;
        while (true)
        {
            state = _states.GetOrAdd(eventId, static _ => new TickerEventState());
            if (state.TryMarkDirty(eventName))
            {
                break;
            }

            // Removed by a tick between GetOrAdd and the mark: help remove it, then use a fresh one.
            _states.TryRemove(new KeyValuePair<Guid, TickerEventState>(eventId, state));
        }

        TryStart(eventId, state);
    }

    /// <summary>Marks every given event dirty (after the LISTEN connection came back: notifications may be lost).</summary>
    public void MarkAllDirty(IEnumerable<Guid> eventIds)
    {
        ArgumentNullException.ThrowIfNull(eventIds);
        foreach (var eventId in eventIds)
        {
            MarkDirty(eventId);
        }
    }

    /// <inheritdoc />
    public int RecomputeHeld()
    {
        _computation.RequireFullAll();
        var eventIds = _computation.HeldEvents();
        MarkAllDirty(eventIds);
        return eventIds.Count;
    }

    /// <inheritdoc />
    public void Repair(Guid eventId)
    {
        // Marked dirty too: PostgreSQL delivers one of equal notifications of a transaction, so the
        // repair notice may arrive after the computation its 'update' started.
        _computation.RequireFull(eventId);
        MarkDirty(eventId);
    }
}
