using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace Pulse.Tests.Storage;

/// <summary>
/// Which database failures stop <c>serve</c> at start-up (the login is refused: waiting cannot help) and
/// which it waits out (the server is down, starting or full), and the one line each becomes. The end-to-end
/// cases are in <c>EndToEnd/TlsDatabaseTests</c>; these are the server answers a test cannot easily provoke.
/// </summary>
[Trait("Category", "unit")] public sealed class DatabaseFailureTests
{
    private const string Settings = "Host=db.example.com;Port=6543;Database=battles;SSL Mode=VerifyFull;Root Certificate=/etc/pulse/ca.pem;Timeout=7;Command Timeout=9";

    [Theory]
    [InlineData("28P01", true)]  // invalid_password
    [InlineData("28000", true)]  // invalid_authorization_specification: no pg_hba.conf entry, no such role
    [InlineData("3D000", true)]  // invalid_catalog_name: no such database
    [InlineData("57P03", false)] // cannot_connect_now: the database system is starting up
    [InlineData("53300", false)] // too_many_connections
    [InlineData("57P01", false)] // admin_shutdown: a restart under way
    [InlineData("08006", false)] // connection_failure
    public void IsRefusal_ServerAnswer_OnlyAuthorizationAndMissingDatabase(string sqlState, bool refusal) =>
        Assert.Equal(refusal, DatabaseFailure.IsRefusal(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void IsRefusal_CertificateRejected_True() =>
        Assert.True(DatabaseFailure.IsRefusal(new NpgsqlException("Exception while performing SSL handshake", new AuthenticationException("net_ssl_io_cert_custom_validation"))));

    [Fact]
    public void IsRefusal_ConnectionRefusedOrTimeout_False()
    {
        Assert.False(DatabaseFailure.IsRefusal(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.False(DatabaseFailure.IsRefusal(new NpgsqlException("Exception while reading from stream", new TimeoutException())));
    }

    [Fact]
    public void Describe_ServerAnswer_NamesDatabaseHostPortMessageAndSqlState()
    {
        var e = DatabaseFailure.Describe(Settings, new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03"));
        Assert.Equal("database \"battles\" at db.example.com:6543: the database system is starting up (SQLSTATE 57P03)", e.Message);
    }

    [Fact]
    public void Describe_CertificateRejected_SaysWhichCaAndHostInsteadOfTheResourceKey()
    {
        var e = DatabaseFailure.Describe(Settings, new NpgsqlException("Exception while performing SSL handshake", new AuthenticationException("net_ssl_io_cert_custom_validation")));
        Assert.Equal("database \"battles\" at db.example.com:6543: TLS: the server's certificate was rejected (sslmode=verify-full): it is not signed by the CA in sslrootcert /etc/pulse/ca.pem, or it is not issued for db.example.com", e.Message);
    }

    [Fact]
    public void Describe_Timeout_NamesBothTimeouts()
    {
        var e = DatabaseFailure.Describe(Settings, new NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")));
        Assert.EndsWith(": no answer from the server in time (connect_timeout 7 s, statement timeout 9 s)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_MultiLineServerMessage_StaysOneLine()
    {
        var e = DatabaseFailure.Describe(Settings, new PostgresException("first\nsecond", "FATAL", "FATAL", "XX000"));
        Assert.DoesNotContain('\n', e.Message);
    }
}
