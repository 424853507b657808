using Pulse.Broadcasting;

namespace Pulse.Cluster;

/// <summary>
/// Where <c>POST /v1/events</c> hands a notification it accepted: to every node (docs/design.md §9), this one
/// included. Never throws for a database problem: a notification accepted is never lost.
/// </summary>
internal interface INotificationPublisher
{
    ValueTask PublishAsync(Notification notification);
}
