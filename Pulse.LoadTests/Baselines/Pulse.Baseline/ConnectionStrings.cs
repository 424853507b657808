using Npgsql;

namespace Pulse.Baseline;

internal static class ConnectionStrings
{
    /// <summary>postgres://user:pass@host:port/db, or a keyword string as is.</summary>
    public static string FromUrl(string url)
    {
        if (!url.StartsWith("postgres", StringComparison.Ordinal) || !url.Contains("://", StringComparison.Ordinal))
        {
            return url;
        }

        var uri = new Uri(url);
        string[] user = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.TrimStart('/'),
            Username = Uri.UnescapeDataString(user[0]),
        };
        if (user.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        return builder.ConnectionString;
    }
}
