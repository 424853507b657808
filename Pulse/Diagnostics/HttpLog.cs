
namespace Pulse.Diagnostics;

/// <summary>
/// Log messages of the HTTP layer; event ids 2000–2099. The exception goes here, never into a
/// response (docs/design.md §6): Npgsql's messages name the database host, port and user.
/// </summary>
internal static partial class HttpLog
{
    [LoggerMessage(2000, LogLevel.Warning, "{Method} {Path}: the database failed, answered 503 ({Suppressed} more not logged since the last line)")]
    public static partial void DatabaseFailed(ILogger logger, string method, string path, long suppressed, Exception exception);

    [LoggerMessage(2001, LogLevel.Error, "{Method} {Path}: the handler failed, answered 500 ({Suppressed} more not logged since the last line)")]
    public static partial void HandlerFailed(ILogger logger, string method, string path, long suppressed, Exception exception);

    [LoggerMessage(2002, LogLevel.Warning, "/readyz: {Reason} ({Suppressed} more not logged since the last line)")]
    public static partial void NotReady(ILogger logger, string reason, long suppressed, Exception exception);
}
