
namespace Pulse.Diagnostics;

/// <summary>Logging of the Phoenix layer and the hub; event ids 4000–4099.</summary>
internal static partial class PhoenixLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "Socket {ConnectionId}: malformed message ignored")]
    public static partial void MalformedIgnored(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Socket {ConnectionId}: malformed message on {Topic} answered")]
    public static partial void MalformedAnswered(ILogger logger, string connectionId, string topic);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "Socket {ConnectionId}: duplicate join of {Topic}, closing the old join")]
    public static partial void DuplicateJoin(ILogger logger, string connectionId, string topic);

    // One line, no stack trace, at most once per LogLimiter interval: during a database outage every join
    // fails the same way (a reconnect storm is thousands a second), and the ticker logs the failure's trace.
    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Joins fail reading the snapshot ({Suppressed} more failures not logged since the last line); this one: socket {ConnectionId}, {Topic}: {ErrorType}: {Error}")]
    public static partial void JoinFailed(ILogger logger, long suppressed, string connectionId, string topic, string errorType, string error);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Socket {ConnectionId}: too many channels joined ({Limit})")]
    public static partial void TooManyChannels(ILogger logger, string connectionId, int limit);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Debug, Message = "Socket {ConnectionId}: {Event} on unmatched topic {Topic}")]
    public static partial void UnmatchedTopic(ILogger logger, string connectionId, string @event, string topic);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "A subscriber's frame sink threw; fan-out continues")]
    public static partial void OfferFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Debug, Message = "Upgrade refused: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "Joins read their snapshot again ({Failures} failures since the last line)")]
    public static partial void JoinsRecovered(ILogger logger, long failures);
}
