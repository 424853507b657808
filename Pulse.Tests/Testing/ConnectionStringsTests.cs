using Npgsql;

namespace Pulse.Tests.Testing;

/// <summary>The tools' URL ↔ keyword helper (Pulse.Testing): percent-decoding, defaults, TLS parameters, round trip.</summary>
[Trait("Category", "unit")] public sealed class ConnectionStringsTests
{
    [Fact]
    public void ToKeywords_EncodedUserPasswordAndTls_Decoded()
    {
        var keywords = new NpgsqlConnectionStringBuilder(ConnectionStrings.ToKeywords("postgres://us%40er:p%3Ass@db.example:6543/bat%20tles?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3"));

        Assert.Equal(("db.example", 6543, "bat tles", "us@er", "p:ss"), (keywords.Host, keywords.Port, keywords.Database, keywords.Username, keywords.Password));
        Assert.Equal((SslMode.VerifyFull, "/etc/ca.pem", 3), (keywords.SslMode, keywords.RootCertificate, keywords.Timeout));
    }

    [Fact]
    public void ToKeywords_NoPort_5432() =>
        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(ConnectionStrings.ToKeywords("postgresql://pulse@127.0.0.1/pulse")).Port);

    [Fact]
    public void ToKeywords_KeywordString_ReturnedAsIs() =>
        Assert.Equal("Host=h;Database=d", ConnectionStrings.ToKeywords("Host=h;Database=d"));

    [Fact]
    public void ToKeywords_UnknownParameter_ClearError() =>
        Assert.Contains("'target_session_attrs'", Assert.Throws<ArgumentException>(() => ConnectionStrings.ToKeywords("postgres://u@h/d?target_session_attrs=any")).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://us%40er:p%3Ass@db.example:6543/battles?sslmode=require")]
    [InlineData("postgres://pulse@127.0.0.1/pulse")]
    [InlineData("postgres://pulse@127.0.0.1:5433/pulse?sslmode=verify-ca&sslrootcert=%2Ftmp%2Fca.pem")]
    public void ToUrl_OfToKeywords_SameUrl(string url) =>
        Assert.Equal(url, ConnectionStrings.ToUrl(ConnectionStrings.ToKeywords(url)));
}
