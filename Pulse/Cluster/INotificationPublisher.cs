using Pulse.Broadcasting;

namespace Pulse.Cluster;

/// <summary>
/// Where <c>POST /v1/events</c> hands a notification it accepted: to every node (docs/design.md §9), this one
/// included. Never waits for the database and never fails: this node is notified before it returns, the
/// others within a batch interval of the database answering.
/// </summary>
internal interface INotificationPublisher
{
    void Publish(Notification notification);
}
