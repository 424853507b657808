using Npgsql;

namespace Pulse.Configuration;

/// <summary>
/// Turns <c>DATABASE_URL</c> into an Npgsql connection string. Accepts the URL form
/// (<c>postgres://user:pass@host:port/db?sslmode=verify-full&amp;sslrootcert=/etc/pulse/ca.pem</c>, user,
/// password and database percent-encoded, as Heroku-style platforms and managed services set it) and
/// Npgsql's keyword form (<c>Host=…;Username=…;SSL Mode=VerifyFull;Root Certificate=…</c>).
/// </summary>
/// <remarks>
/// The URL parameters are libpq's names with libpq's values, so a URL copied from a provider's console
/// works unchanged (but for <c>sslrootcert</c> with a mode below verify-ca, see <see cref="CheckTls"/>): <c>sslmode</c> (disable, allow, prefer, require, verify-ca, verify-full; Npgsql's
/// default, prefer, when absent), <c>sslrootcert</c> (a PEM file of the CA that signed the server's
/// certificate), <c>application_name</c>, <c>connect_timeout</c>. Anything else is refused rather than
/// ignored: a dropped <c>sslrootcert</c> typo would silently weaken the connection.
/// </remarks>
internal static partial class DatabaseUrl
{
    private const string Key = "Database:Url";

    public static string ToConnectionString(string value, int poolSize, int commandTimeoutSeconds)
    {
        var builder = value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? FromUrl(value)
            : FromKeywords(value);
        CheckTls(builder);
        builder.MaxPoolSize = poolSize;
        builder.CommandTimeout = commandTimeoutSeconds;

        // Pulse changes no session state on a pooled connection but the jit = off that each new one is
        // given (PulseDatabase; no LISTEN: the LISTEN connection is unpooled), so Npgsql's reset on return (SET SESSION AUTHORIZATION DEFAULT,
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

    /// <summary>Checks common to both forms, on what Npgsql will actually use.</summary>
    private static void CheckTls(NpgsqlConnectionStringBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.RootCertificate))
        {
            return;
        }

        // Npgsql checks the certificate only with verify-ca and verify-full, while libpq quietly upgrades
        // require to verify-ca when a root certificate is given: refusing the combination leaves no doubt,
        // for a URL written for either, whether the server is checked.
        if (builder.SslMode is not (SslMode.VerifyCA or SslMode.VerifyFull))
        {
            throw new ConfigurationException(Key, $"sslrootcert is only used with sslmode=verify-ca or verify-full (got {SslModeName(builder.SslMode)}); without one of them the server's certificate is not checked");
        }

        if (!File.Exists(builder.RootCertificate))
        {
            throw new ConfigurationException(Key, $"sslrootcert '{builder.RootCertificate}' does not exist or is not a readable file");
        }
    }

    private static string SslModeName(SslMode mode) => mode switch
    {
        SslMode.Disable => "disable",
        SslMode.Allow => "allow",
        SslMode.Prefer => "prefer",
        SslMode.Require => "require",
        SslMode.VerifyCA => "verify-ca",
        _ => "verify-full",
    };

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
}
