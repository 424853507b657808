namespace Pulse.Storage;

/// <summary>
/// A table Pulse keeps a copy of in memory (the active API keys, the event ids). The notification bus
/// owns the LISTEN connection and tells each catalog when its table may have changed; Storage owns
/// this interface so it never names the bus.
/// </summary>
internal interface ICatalog
{
    /// <summary>
    /// The channel migration 003's triggers notify, with the changed table's name as the payload.
    /// A fixed identifier, never input.
    /// </summary>
    const string Channel = "pulse_catalog";

    /// <summary>The table's name, as the trigger sends it (<c>TG_TABLE_NAME</c>).</summary>
    string Table { get; }

    /// <summary>
    /// Re-read the table now: it changed (a NOTIFY on <see cref="Channel"/>), or changes may have been
    /// missed (the LISTEN connection was (re)established). Returns at once; the read runs in the background.
    /// </summary>
    void Invalidate();
}
