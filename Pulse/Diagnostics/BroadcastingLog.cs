
namespace Pulse.Diagnostics;

/// <summary>Log messages of the broadcast pipeline; event ids 5000–5099.</summary>
internal static partial class BroadcastingLog
{
    [LoggerMessage(5000, LogLevel.Warning, "Broadcast tick took {ElapsedMs:F1} ms, longer than its period of {PeriodMs} ms")]
    public static partial void TickOverran(ILogger logger, double elapsedMs, int periodMs);

    [LoggerMessage(5001, LogLevel.Warning, "Broadcast tick ran {LateMs:F1} ms late (period {PeriodMs} ms); the thread pool may be starved")]
    public static partial void TickLate(ILogger logger, double lateMs, int periodMs);

    [LoggerMessage(5002, LogLevel.Error, "Computation of event {EventId} failed ({Suppressed} more failures not logged since the last line); the event stays dirty and is retried next window")]
    public static partial void ComputationFailed(ILogger logger, Guid eventId, long suppressed, Exception exception);

    [LoggerMessage(5004, LogLevel.Information, "Ticker started: window {PeriodMs} ms")]
    public static partial void TickerStarted(ILogger logger, int periodMs);

    [LoggerMessage(5005, LogLevel.Information, "Ticker stopped")]
    public static partial void TickerStopped(ILogger logger);

    [LoggerMessage(5006, LogLevel.Information, "Computations succeed again ({Failures} failures since the last error line)")]
    public static partial void ComputationsRecovered(ILogger logger, long failures);

    [LoggerMessage(5007, LogLevel.Warning, "Counts of event {EventId} differed from a full read in {Records} (side, entry) records (links deleted or updated behind Pulse's back); repaired")]
    public static partial void CountsRepaired(ILogger logger, Guid eventId, long records);

    [LoggerMessage(5008, LogLevel.Warning, "uniq_entry_keywords.pulse_xact is missing: run `pulse migrate` (migration 005). Until then every computation reads all the links of its event")]
    public static partial void CountingWithoutMigration(ILogger logger);
}
