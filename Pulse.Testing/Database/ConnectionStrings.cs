using Npgsql;

namespace Pulse.Testing.Database;

/// <summary>
/// A PostgreSQL address in both forms the tools meet: the URL of <c>DATABASE_URL</c>
/// (<c>postgres://user:pass@host:port/db?sslmode=…</c>, percent-encoded) and Npgsql's keyword string.
/// Pulse has its own, stricter parser (<c>Pulse.Configuration.DatabaseUrl</c>); this one is for the
/// load tool, the baseline and test fixtures, which must not depend on the code they measure.
/// </summary>
internal static class ConnectionStrings
{
    /// <summary>The keyword form of <paramref name="url"/>; a keyword string is returned as it is.</summary>
    public static string ToKeywords(string url)
    {
        if (!url.StartsWith("postgres://", StringComparison.Ordinal) && !url.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return url;
        }

        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        string[] userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            switch (kv[0])
            {
                case "sslmode" when Enum.TryParse(value.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out SslMode mode):
                    builder.SslMode = mode;
                    break;
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "connect_timeout" when int.TryParse(value, out int seconds):
                    builder.Timeout = seconds;
                    break;
                default:
                    throw new ArgumentException($"URL parameter '{kv[0]}' is not supported here (sslmode, sslrootcert, connect_timeout are)", nameof(url));
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>The URL form of a keyword string (host, port, database, user, password, SSL mode and root certificate).</summary>
    public static string ToUrl(string keywords)
    {
        var builder = new NpgsqlConnectionStringBuilder(keywords);
        string user = builder.Username is { Length: > 0 } name
            ? Uri.EscapeDataString(name) + (builder.Password is { Length: > 0 } password ? ":" + Uri.EscapeDataString(password) : string.Empty) + "@"
            : string.Empty;
        var query = new List<string>();
        if (builder.SslMode != SslMode.Prefer)
        {
            query.Add("sslmode=" + builder.SslMode switch
            {
                SslMode.VerifyCA => "verify-ca",
                SslMode.VerifyFull => "verify-full",
                var mode => mode.ToString().ToLowerInvariant(),
            });
        }

        if (builder.RootCertificate is { Length: > 0 } root)
        {
            query.Add("sslrootcert=" + Uri.EscapeDataString(root));
        }

        string port = builder.Port == 5432 ? string.Empty : ":" + builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string url = $"postgres://{user}{builder.Host}{port}/{Uri.EscapeDataString(builder.Database ?? string.Empty)}";
        return query.Count == 0 ? url : url + "?" + string.Join('&', query);
    }
}
