namespace Pulse.Broadcasting;

/// <summary>
/// Where notifications go once they are taken (<c>POST /v1/events</c>, the database trigger, another
/// node): the <see cref="Ticker"/>, which coalesces them into computations (docs/design.md §8). Owned here,
/// handed to the layers above (the notification bus) by the composition root.
/// </summary>
/// <remarks>Thread safety: both members may be called from any thread; neither blocks nor throws for the database.</remarks>
internal interface INotificationSink
{
    /// <summary>Takes one notification: its event is computed at once or at the end of the window.</summary>
    void Notify(Notification notification);

    /// <summary>
    /// Notifications may have been missed (the LISTEN connection was down): every event whose numbers
    /// someone holds (<see cref="ISnapshotComputation.HeldEvents"/>) is computed once more. Returns how many.
    /// </summary>
    int RecomputeHeld();

    /// <summary>
    /// Links of the event were deleted or updated (the database trigger's repair channel): its next
    /// computation reads every link, since a delta sees inserts only (docs/design.md §18).
    /// </summary>
    void Repair(Guid eventId);
}
