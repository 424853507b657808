namespace Pulse.Cluster;

/// <summary>
/// Whether this node hears the other nodes: what <c>/readyz</c> asks of the notification bus. A node
/// that does not listen still serves, but misses other nodes' notifications until it is back.
/// </summary>
internal interface IListenStatus
{
    /// <summary>True while the LISTEN connection is established.</summary>
    bool IsListening { get; }
}
