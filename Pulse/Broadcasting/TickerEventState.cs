namespace Pulse.Broadcasting;

/// <summary>
/// The coalescing state of one event: three flag bits, the latest event name and the window of the
/// last computation start. A flood of notifications only rewrites these fields: memory stays one
/// object per active event however many notifications arrive.
/// </summary>
/// <remarks>
/// Thread safety: any thread may mark the event dirty; claims, completions and removal are
/// compare-and-swap transitions on <see cref="Flags"/>, so exactly one caller wins each claim and a
/// state is never removed while dirty or running. Transitions:
/// <code>
///   idle --MarkDirty--> dirty --TryClaim--> running (dirty may be set again meanwhile)
///   running --Complete--> idle or dirty;  idle --TryMarkRemoved--> removed (terminal)
/// </code>
/// </remarks>
internal sealed class TickerEventState
{
    public const int Running = 1;
    public const int Dirty = 2;
    public const int Removed = 4;

    private int _flags;

    // Written before the Dirty bit is set (Interlocked.Or is a full fence), read after a claim clears
    // it: a name written after the claim comes with a new Dirty bit, hence with one more computation.
    private string _latestName = Notification.DatabaseEventName;

    // The ticker's window number at the last claim; long.MinValue until the first computation.
    private long _lastWindow = long.MinValue;

    public int Flags => Volatile.Read(ref _flags);

    public long LastWindow => Volatile.Read(ref _lastWindow);

    public string LatestName => Volatile.Read(ref _latestName);

    /// <summary>
    /// Marks the event dirty, recording <paramref name="eventName"/> as the name of the next broadcast;
    /// <c>null</c> keeps the name of a pending notification (else <c>"update"</c>). Returns <c>false</c>
    /// when this state was removed: the caller must mark a fresh state instead.
    /// </summary>
    public bool TryMarkDirty(string? eventName)
    {
        if (eventName is not null)
        {
            Volatile.Write(ref _latestName, eventName);
        }
        else if ((Flags & Dirty) == 0)
        {
            Volatile.Write(ref _latestName, Notification.DatabaseEventName);
        }

        return (Interlocked.Or(ref _flags, Dirty) & Removed) == 0;
    }

    /// <summary>Cheap pre-check for <see cref="TryClaim"/>: dirty, idle and not yet computed in <paramref name="window"/>.</summary>
    public bool IsClaimable(long window) => Flags == Dirty && LastWindow != window;

    /// <summary>dirty → running, recording <paramref name="window"/>; at most one caller wins.</summary>
    public bool TryClaim(long window)
    {
        if (LastWindow == window || Interlocked.CompareExchange(ref _flags, Running, Dirty) != Dirty)
        {
            return false;
        }

        Volatile.Write(ref _lastWindow, window);
        return true;
    }

    /// <summary>running → idle, or dirty when notifications arrived meanwhile; returns whether dirty.</summary>
    public bool Complete() => (Interlocked.And(ref _flags, ~Running) & Dirty) != 0;

    /// <summary>A failed computation: keep the event dirty so a later window retries it.</summary>
    public void KeepDirty() => Interlocked.Or(ref _flags, Dirty);

    /// <summary>idle for at least <paramref name="idleWindows"/> windows → removed (terminal).</summary>
    public bool TryMarkRemoved(long window, long idleWindows) =>
        Flags == 0
        && (LastWindow == long.MinValue || window - LastWindow >= idleWindows)
        && Interlocked.CompareExchange(ref _flags, Removed, 0) == 0;
}
