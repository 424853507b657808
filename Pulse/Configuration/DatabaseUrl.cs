using Npgsql;

namespace Pulse.Configuration;

/// <summary>
/// Turns <c>DATABASE_URL</c> into an Npgsql connection string. Accepts the URL form
/// (<c>postgres://user:pass@host:port/db?sslmode=require</c>, user and password percent-encoded,
/// as Heroku-style platforms set it) and Npgsql's keyword form (<c>Host=…;Username=…</c>).
/// </summary>
internal static class DatabaseUrl
{
    private const string Key = "Database:Url";

    public static string ToConnectionString(string value, int poolSize, int commandTimeoutSeconds)
    {
        var builder = value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? FromUrl(value)
            : FromKeywords(value);
        builder.MaxPoolSize = poolSize;
        builder.CommandTimeout = commandTimeoutSeconds;

        // Pulse never changes session state on a pooled connection (no SET, no LISTEN: the LISTEN
        // connection is unpooled), so Npgsql's reset on return (SET SESSION AUTHORIZATION DEFAULT,
        // RESET ALL, CLOSE ALL, UNLISTEN *, pg_advisory_unlock_all(), DISCARD SEQUENCES, DISCARD TEMP)
        // is pure cost: measured in the flood scenario it made every POST's one pg_notify eight
        // statements in PostgreSQL (docs/benchmarks.md).
        builder.NoResetOnClose = true;
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "pulse";
        }

        return builder.ConnectionString;
    }

    private static NpgsqlConnectionStringBuilder FromKeywords(string value)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(builder.Host))
            {
                throw new ConfigurationException(Key, "no Host in the connection string (expected postgres://… or Host=…;Database=…)");
            }

            return builder;
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException(Key, e.Message.ReplaceLineEndings(" "));
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ConfigurationException(Key, "not a valid postgres:// URL");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']'), Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var setting = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (name.ToLowerInvariant())
            {
                case "sslmode":
                    builder.SslMode = setting.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new ConfigurationException(Key, $"sslmode '{setting}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                    };
                    break;
                case "application_name":
                    builder.ApplicationName = setting;
                    break;
                case "connect_timeout":
                    builder.Timeout = int.TryParse(setting, out var t) && t > 0 ? t : throw new ConfigurationException(Key, $"connect_timeout '{setting}' is not a positive number");
                    break;
                default:
                    throw new ConfigurationException(Key, $"unknown URL parameter '{name}' (supported: sslmode, application_name, connect_timeout)");
            }
        }

        return builder;
    }
}
