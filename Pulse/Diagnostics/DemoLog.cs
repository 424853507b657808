
namespace Pulse.Diagnostics;

/// <summary>Log messages of <c>pulse demo</c>; event ids 7000–7099.</summary>
internal static partial class DemoLog
{
    [LoggerMessage(7000, LogLevel.Warning, "Simulated feed: inserting {Count} tweets failed; retrying with the next batch")]
    public static partial void InsertFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(7001, LogLevel.Warning, "Simulated feed: POST /v1/events answered {Status}; further failures are not logged until one succeeds")]
    public static partial void NotifyRejected(ILogger logger, int status);

    [LoggerMessage(7002, LogLevel.Warning, "Simulated feed: POST /v1/events failed; further failures are not logged until one succeeds")]
    public static partial void NotifyFailed(ILogger logger, Exception exception);

    [LoggerMessage(7003, LogLevel.Information, "Simulated feed: notifications get through again")]
    public static partial void NotifyRecovered(ILogger logger);

    [LoggerMessage(7004, LogLevel.Information, "Simulated feed: the battle has ended; the feed stops")]
    public static partial void BattleEnded(ILogger logger);
}
