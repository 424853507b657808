
namespace Pulse.Diagnostics;

/// <summary>Log messages of the storage layer (the in-memory catalogs); event ids 1000–1099.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Could not re-read {Table}; answering from the copy in memory, read {AgeMs} ms ago. Retrying in {RetryMs} ms, backing off to 8 s; further failures are not logged until a read succeeds")]
    public static partial void CopyReadFailed(ILogger logger, string table, long ageMs, long retryMs, Exception exception);

    [LoggerMessage(1001, LogLevel.Information, "Re-read {Table} after {Failures} failed attempts over {DownMs} ms")]
    public static partial void CopyRecovered(ILogger logger, string table, int failures, long downMs);

    [LoggerMessage(1002, LogLevel.Warning, "Could not read {Table}, and no copy is in memory yet: what needs it answers 503 until a read succeeds. Retrying in {RetryMs} ms, backing off to 8 s; further failures are not logged until a read succeeds")]
    public static partial void CopyUnavailable(ILogger logger, string table, long retryMs, Exception exception);
}
