
namespace Pulse.Diagnostics;

/// <summary>Log messages of the notification bus and the shutdown drain; event ids 6000–6099.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(6000, LogLevel.Information, "Listening on channel {Channel} (connection {Attempt} of this process)")]
    public static partial void Listening(ILogger logger, string channel, int attempt);

    [LoggerMessage(6001, LogLevel.Warning, "LISTEN connection failed: {Reason} ({Suppressed} more failures not logged since the last line); retrying in {DelayMs} ms")]
    public static partial void ListenFailed(ILogger logger, string reason, long suppressed, int delayMs);

    [LoggerMessage(6002, LogLevel.Warning, "LISTEN connection lost; notifications may be missed until it is back")]
    public static partial void ListenLost(ILogger logger, Exception exception);

    [LoggerMessage(6003, LogLevel.Information, "LISTEN re-established after {DownMs:F0} ms; recomputing {Count} watched or cached events once")]
    public static partial void RecomputingWatched(ILogger logger, double downMs, int count);

    [LoggerMessage(6004, LogLevel.Warning, "NOTIFY of {Count} events failed: {Reason} ({Suppressed} more failures not logged since the last line); this node is notified, the others once the database answers")]
    public static partial void PublishFailed(ILogger logger, int count, string reason, long suppressed);

    [LoggerMessage(6005, LogLevel.Information, "NOTIFY works again after {Failed} failed batches: sent {Count} events held meanwhile")]
    public static partial void PendingPublished(ILogger logger, int count, long failed);

    [LoggerMessage(6006, LogLevel.Warning, "{Max} events already wait for NOTIFY; event {EventId} is notified on this node only ({Suppressed} more not logged)")]
    public static partial void PendingFull(ILogger logger, int max, Guid eventId, long suppressed);

    [LoggerMessage(6007, LogLevel.Warning, "Ignored a malformed notification on channel {Channel} from backend {Pid} ({Suppressed} more not logged)")]
    public static partial void MalformedPayload(ILogger logger, string channel, int pid, long suppressed);

    [LoggerMessage(6008, LogLevel.Information, "Notification bus stopped")]
    public static partial void BusStopped(ILogger logger);

    [LoggerMessage(6009, LogLevel.Warning, "The NOTIFY publisher's connection could not be opened at start: {Reason}; the first notification opens it again")]
    public static partial void PublisherOpenFailed(ILogger logger, string reason);

    [LoggerMessage(6010, LogLevel.Information, "Draining {Count} WebSockets over {WindowMs} ms (close 1001, {Batch} every {StepMs} ms)")]
    public static partial void DrainStarted(ILogger logger, int count, int windowMs, int batch, int stepMs);

    [LoggerMessage(6011, LogLevel.Information, "Drain done: {Count} close frames queued in {ElapsedMs:F0} ms")]
    public static partial void DrainFinished(ILogger logger, int count, double elapsedMs);
}
