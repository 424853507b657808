namespace Pulse.Broadcasting;

/// <summary>
/// The coalescing state of one event: three flag bits, the name of the latest named notification not
/// yet taken by a computation, and the window of the last computation start. A flood of notifications
/// only rewrites these fields: memory stays one object per active event however many notifications arrive.
/// </summary>
/// <remarks>
/// Thread safety: any thread may mark the event dirty; claims, takes, completions and removal are
/// atomic transitions on <see cref="Flags"/>, so exactly one caller wins each claim and a state is
/// never removed while dirty or running. Transitions:
/// <code>
///   idle --MarkDirty--> dirty --TryClaim--> claimed (running + dirty, until its computation starts)
///   claimed --TakePending--> running (dirty may be set again meanwhile)
///   running --Complete--> idle or dirty;  idle --TryMarkRemoved--> removed (terminal)
/// </code>
/// <para><b>Names (docs/design.md §7).</b> A computation broadcasts under the name of the latest notification
/// coalesced into it, <c>"update"</c> when none named it. The pending name is taken by
/// <see cref="TakePending"/> together with the pending state when the computation starts, before it
/// reads the database, so whatever marks the event meanwhile (a minute's turn, a
/// recompute after a reconnect: both unnamed) can neither replace a pending name nor be mistaken for
/// one. The take clears the Dirty bit first and takes the name second; a marker writes the name first
/// and sets the bit second (both full fences). So a name written before the take's clear is taken by
/// this computation; one written between the clear and the take is taken too (its notification came
/// after its rows were committed, and this computation reads after the take, so it sees them), and its
/// Dirty bit only costs one more computation that finds nothing new; one written after the take waits,
/// with its own Dirty bit, for the next computation. No interleaving hands a name to a computation
/// that reads before that notification's rows, or loses a name.</para>
/// </remarks>
internal sealed class TickerEventState
{
    public const int Running = 1;
    public const int Dirty = 2;
    public const int Removed = 4;

    private int _flags;

    // The latest name given since the last take; null: nothing named is pending ("update").
    private string? _pendingName;

    // The ticker's window number at the last claim; long.MinValue until the first computation.
    private long _lastWindow = long.MinValue;

    public int Flags => Volatile.Read(ref _flags);

    public long LastWindow => Volatile.Read(ref _lastWindow);

    /// <summary>The name the next computation would take; null when none is pending (it would broadcast <c>"update"</c>).</summary>
    public string? PendingName => Volatile.Read(ref _pendingName);

    /// <summary>
    /// Marks the event dirty; <paramref name="eventName"/> becomes the name of the next broadcast, and
    /// <c>null</c> (a change nobody named) leaves a pending name as it is. Returns <c>false</c> when
    /// this state was removed: the caller must mark a fresh state instead.
    /// </summary>
    public bool TryMarkDirty(string? eventName)
    {
        if (eventName is not null)
        {
            // Before the Dirty bit (see the remarks): Interlocked.Or below is a full fence.
            Volatile.Write(ref _pendingName, eventName);
        }

        return (Interlocked.Or(ref _flags, Dirty) & Removed) == 0;
    }

    /// <summary>Cheap pre-check for <see cref="TryClaim"/>: dirty, idle and not yet computed in <paramref name="window"/>.</summary>
    public bool IsClaimable(long window) => Flags == Dirty && LastWindow != window;

    /// <summary>
    /// dirty → claimed (running, still dirty), recording <paramref name="window"/>; at most one caller
    /// wins. The pending state stays until <see cref="TakePending"/>, which the claim's owner calls
    /// when it starts the computation: notifications before it are coalesced into this computation.
    /// </summary>
    public bool TryClaim(long window)
    {
        if (LastWindow == window || Interlocked.CompareExchange(ref _flags, Running | Dirty, Dirty) != Dirty)
        {
            return false;
        }

        Volatile.Write(ref _lastWindow, window);
        return true;
    }

    /// <summary>
    /// claimed → running: clears the pending state and returns the name this computation broadcasts
    /// under (the latest pending name, else <c>"update"</c>). Called by the claim's owner once, right
    /// before it reads the database.
    /// </summary>
    public string TakePending()
    {
        // Clear first, take second: the order the remarks prove.
        Interlocked.And(ref _flags, ~Dirty);
        return Interlocked.Exchange(ref _pendingName, null) ?? Notification.DatabaseEventName;
    }

    /// <summary>running → idle, or dirty when notifications arrived meanwhile; returns whether dirty.</summary>
    public bool Complete() => (Interlocked.And(ref _flags, ~Running) & Dirty) != 0;

    /// <summary>
    /// A failed computation: keep the event dirty so a later window retries it, under the name it had
    /// taken (<paramref name="takenName"/>, null when it failed before the take) unless a newer name is pending.
    /// </summary>
    public void KeepDirty(string? takenName)
    {
        if (takenName is not null)
        {
            Interlocked.CompareExchange(ref _pendingName, takenName, null);
        }

        Interlocked.Or(ref _flags, Dirty);
    }

    /// <summary>idle for at least <paramref name="idleWindows"/> windows → removed (terminal).</summary>
    public bool TryMarkRemoved(long window, long idleWindows) =>
        Flags == 0
        && (LastWindow == long.MinValue || window - LastWindow >= idleWindows)
        && Interlocked.CompareExchange(ref _flags, Removed, 0) == 0;
}
