using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Npgsql;

namespace Pulse.Storage;

/// <summary>
/// What Npgsql throws when a database cannot be reached or refuses the login, turned into one line
/// that names host, port and database and says why in words a user can act on.
/// </summary>
/// <remarks>
/// The exception types are the ones the AOT binary throws (each case is run by
/// <c>Pulse.Tests/EndToEnd/TlsDatabaseTests.cs</c>):
/// <list type="bullet">
/// <item><see cref="PostgresException"/>: the server said no (28P01 wrong password, 28000 no pg_hba.conf
/// entry, e.g. TLS off against a <c>hostssl</c>-only server, 3D000 no such database); its text is the server's.</item>
/// <item><see cref="NpgsqlException"/> around a <see cref="SocketException"/> (refused, no such host), a
/// <see cref="TimeoutException"/> (connect_timeout), an <see cref="AuthenticationException"/> (the server's
/// certificate failed verify-ca/verify-full) or a <see cref="CryptographicException"/> (sslrootcert is no certificate).</item>
/// <item><see cref="NotSupportedException"/>, unwrapped, from the slim builder: the server asks for
/// GSSAPI/SSPI, which Pulse leaves out.</item>
/// </list>
/// The binary is built with <c>UseSystemResourceKeys</c>, so the runtime's own messages are resource keys
/// (<c>net_ssl_io_cert_custom_validation</c>): for TLS and certificate failures the line is written here,
/// from the settings that were in force, instead of passing such a key on.
/// </remarks>
internal static class DatabaseFailure
{
    /// <summary>True for an exception that means "this database cannot be used", not a bug in Pulse.</summary>
    public static bool Is(Exception e) => e is NpgsqlException or TimeoutException or SocketException or AuthenticationException or NotSupportedException;

    /// <summary>
    /// True when trying again cannot help until someone changes a setting: the login or the TLS
    /// verification was refused, the database does not exist, the authentication method is not
    /// supported. False when the server is down, unreachable, starting up or full.
    /// </summary>
    public static bool IsRefusal(Exception e)
    {
        if (e is NotSupportedException || Find<AuthenticationException>(e) is not null || Find<CryptographicException>(e) is not null)
        {
            return true;
        }

        // Class 28 is "invalid authorization specification" (wrong password, no pg_hba.conf entry,
        // no such role); 3D000 is invalid_catalog_name (no such database).
        return Find<PostgresException>(e) is { } p && (p.SqlState.StartsWith("28", StringComparison.Ordinal) || p.SqlState == PostgresErrorCodes.InvalidCatalogName);
    }

    /// <summary>The exception to report: "database "pulse" at 10.0.0.5:5432: password authentication failed …".</summary>
    public static DatabaseUnavailableException Describe(string connectionString, Exception e)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var where = $"database \"{settings.Database}\" at {settings.Host}:{settings.Port}";
        return new DatabaseUnavailableException($"{where}: {Reason(settings, e)}".ReplaceLineEndings(" "), e);
    }

    private static string Reason(NpgsqlConnectionStringBuilder settings, Exception e)
    {
        if (Find<PostgresException>(e) is { } server)
        {
            return $"{server.MessageText} (SQLSTATE {server.SqlState})";
        }

        if (Find<AuthenticationException>(e) is not null)
        {
            return Tls(settings);
        }

        if (Find<CryptographicException>(e) is not null)
        {
            return string.IsNullOrEmpty(settings.RootCertificate)
                ? "TLS failed: a certificate could not be read"
                : $"sslrootcert {settings.RootCertificate} could not be read as a PEM certificate";
        }

        if (Find<SocketException>(e) is { } socket)
        {
            return $"cannot connect: {socket.Message}";
        }

        if (Find<TimeoutException>(e) is not null || e is OperationCanceledException)
        {
            return $"no answer from the server in time (connect_timeout {settings.Timeout} s, statement timeout {settings.CommandTimeout} s)";
        }

        if (e is NotSupportedException && e.Message.Contains("Integrated security", StringComparison.Ordinal))
        {
            return "the server asks for GSSAPI/SSPI (Kerberos) authentication, which Pulse does not support; give the role a password (scram-sha-256) in pg_hba.conf";
        }

        var innermost = e;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost == e ? e.Message : $"{e.Message}: {innermost.Message}";
    }

    /// <summary>Why a TLS handshake was refused, from the settings: the runtime's own text is a resource key here.</summary>
    private static string Tls(NpgsqlConnectionStringBuilder settings)
    {
        if (settings.SslMode is not (SslMode.VerifyCA or SslMode.VerifyFull))
        {
            // require (or prefer, allow) checks no certificate: the handshake itself failed.
            return "TLS handshake failed (no common protocol version or cipher, or the connection was cut)";
        }

        var mode = settings.SslMode == SslMode.VerifyCA ? "verify-ca" : "verify-full";
        var trust = string.IsNullOrEmpty(settings.RootCertificate) ? "a CA this machine trusts (give the provider's CA with sslrootcert=FILE)" : $"the CA in sslrootcert {settings.RootCertificate}";
        return settings.SslMode == SslMode.VerifyFull
            ? $"TLS: the server's certificate was rejected (sslmode={mode}): it is not signed by {trust}, or it is not issued for {settings.Host}"
            : $"TLS: the server's certificate was rejected (sslmode={mode}): it is not signed by {trust}";
    }

    private static T? Find<T>(Exception e)
        where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is T found)
            {
                return found;
            }
        }

        return null;
    }
}
