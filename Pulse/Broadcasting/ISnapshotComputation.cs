namespace Pulse.Broadcasting;

/// <summary>
/// The work the <see cref="Ticker"/> schedules: one computation of one event's numbers, and the list
/// of events worth recomputing. Implemented by <see cref="SnapshotService"/>.
/// </summary>
internal interface ISnapshotComputation
{
    /// <summary>
    /// Computes the event's numbers now and, when they changed, publishes them under
    /// <paramref name="eventName"/> (the latest notification coalesced into this computation, docs/design.md §7).
    /// Must be asynchronous at its first I/O: the ticker starts it inline on the notifying thread.
    /// </summary>
    Task ComputeAsync(Guid eventId, string eventName, CancellationToken cancellationToken);

    /// <summary>
    /// Starts computing every event of <paramref name="events"/> (distinct ids), as <see cref="ComputeAsync"/>
    /// would each, reading the database as few times as it can (one statement for all whose counts need
    /// only a delta since one snapshot). Returns one task per event, in order, each ending when that event's
    /// numbers are published (or failing with its own error): one slow event does not hold the others.
    /// Must return before its first I/O completes, as <see cref="ComputeAsync"/>.
    /// </summary>
    IReadOnlyList<Task> ComputeMany(IReadOnlyList<(Guid EventId, string EventName)> events, CancellationToken cancellationToken);

    /// <summary>Events whose numbers someone holds: watched by a subscriber, or cached. A copy, each id once.</summary>
    IReadOnlyCollection<Guid> HeldEvents();

    /// <summary>The event's next computation reads every link (its links were deleted or updated, docs/design.md §18).</summary>
    void RequireFull(Guid eventId);

    /// <summary>Every held event's next computation reads every link (changes may have been missed).</summary>
    void RequireFullAll();
}
