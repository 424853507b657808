using System.Globalization;
using Npgsql;

namespace Pulse.Configuration;

internal static partial class DatabaseUrl
{
    private const string Supported = "sslmode, sslrootcert, application_name, connect_timeout";

    /// <summary>
    /// <c>postgres[ql]://[user[:password]@]host[:port][/database][?name=value&amp;…]</c> (libpq's URI
    /// form, RFC 3986). Parsed here rather than by <see cref="Uri"/>, which re-escapes a stray '%' and
    /// so would turn a password pasted unencoded into another password instead of an error.
    /// </summary>
    private static NpgsqlConnectionStringBuilder FromUrl(string value)
    {
        // RFC 3986 §3.5: an unencoded '#' starts a fragment, so "pa#ss" cuts the password (or the host)
        // short. This URL never has a fragment; a '#' is always one that should have been %23.
        if (value.Contains('#', StringComparison.Ordinal))
        {
            throw new ConfigurationException(Key, "contains '#': percent-encode it as %23 in the user, password or database");
        }

        var rest = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        int query = rest.IndexOf('?', StringComparison.Ordinal);
        var parameters = query < 0 ? string.Empty : rest[(query + 1)..];
        rest = query < 0 ? rest : rest[..query];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        var path = slash < 0 ? string.Empty : rest[(slash + 1)..];
        var authority = slash < 0 ? rest : rest[..slash];

        // RFC 3986 §3.2: the host follows the last '@' (an '@' in a password is better written %40, but
        // the last one is unambiguous); in the userinfo the first ':' splits user from password (§3.2.1).
        var builder = new NpgsqlConnectionStringBuilder();
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Decode(colon < 0 ? userInfo : userInfo[..colon], "the user");
            if (colon >= 0)
            {
                builder.Password = Decode(userInfo[(colon + 1)..], "the password");
            }
        }

        (builder.Host, builder.Port) = HostAndPort(authority[(at + 1)..]);
        var database = Decode(path, "the database");
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in parameters.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            Apply(builder, Decode(eq < 0 ? pair : pair[..eq], "a parameter name"), eq < 0 ? string.Empty : Decode(pair[(eq + 1)..], "a parameter value"));
        }

        return builder;
    }

    /// <summary>
    /// <c>host</c>, <c>host:port</c>, <c>[v6]</c> or <c>[v6]:port</c>; 5432 when no port is given. The
    /// errors never quote what they saw: with an unencoded '/' in the password, the "port" is a piece of it.
    /// </summary>
    private static (string Host, int Port) HostAndPort(string hostPort)
    {
        string host;
        string? port;
        bool bracketed = hostPort.StartsWith('[');
        if (bracketed)
        {
            int close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < hostPort.Length && hostPort[close + 1] != ':'))
            {
                throw new ConfigurationException(Key, "not a valid host: an IPv6 address is written [::1]:5432");
            }

            host = hostPort[1..close];
            port = close + 1 < hostPort.Length ? hostPort[(close + 2)..] : null;
        }
        else
        {
            int colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
            port = colon < 0 ? null : hostPort[(colon + 1)..];
        }

        if (host.Length == 0 || host.AsSpan().IndexOfAny("/%@ ") >= 0 || (!bracketed && host.Contains(':', StringComparison.Ordinal)))
        {
            throw new ConfigurationException(Key, "no valid host in the URL (expected postgres://user:password@host:port/database; percent-encode '@', ':' and '/' in the user and password)");
        }

        if (port is null)
        {
            return (host, 5432);
        }

        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number is >= 1 and <= 65535
            ? (host, number)
            : throw new ConfigurationException(Key, "the port is not a number from 1 to 65535 (a '/' or '@' in the user or password must be percent-encoded: %2F, %40)");
    }

    private static void Apply(NpgsqlConnectionStringBuilder builder, string name, string setting)
    {
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
            case "sslrootcert":
                builder.RootCertificate = setting.Length > 0 ? setting : throw new ConfigurationException(Key, "sslrootcert is empty (expected the path of a PEM file)");
                break;
            case "application_name":
                builder.ApplicationName = setting;
                break;
            case "connect_timeout":
                builder.Timeout = int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t > 0 ? t : throw new ConfigurationException(Key, $"connect_timeout '{setting}' is not a positive number");
                break;
            default:
                throw new ConfigurationException(Key, $"unknown URL parameter '{name}' (supported: {Supported})");
        }
    }

    /// <summary>
    /// Percent-decodes one part (RFC 3986 §2.1), refusing a '%' that is not followed by two hex
    /// digits: a password pasted unencoded ("50%off") is an error, never silently another password.
    /// </summary>
    private static string Decode(string part, string what)
    {
        for (int i = part.IndexOf('%', StringComparison.Ordinal); i >= 0; i = part.IndexOf('%', i + 1))
        {
            if (i + 2 >= part.Length || !char.IsAsciiHexDigit(part[i + 1]) || !char.IsAsciiHexDigit(part[i + 2]))
            {
                throw new ConfigurationException(Key, $"{what} has a '%' not followed by two hex digits: percent-encode '%' as %25");
            }
        }

        return Uri.UnescapeDataString(part);
    }
}
