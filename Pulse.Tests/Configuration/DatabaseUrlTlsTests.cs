using Npgsql;

namespace Pulse.Tests.Configuration;

/// <summary>
/// <c>DATABASE_URL</c> as managed PostgreSQL services hand it out (issue 10): every <c>sslmode</c> in both
/// forms, <c>sslrootcert</c>, percent-encoded user and password, and one clear line for each bad value.
/// </summary>
[Trait("Category", "unit")] public sealed class DatabaseUrlTlsTests : IDisposable
{
    // A real file: sslrootcert is checked for existence when the configuration is loaded.
    private readonly string _folder = Directory.CreateTempSubdirectory("pulse-url-tests ").FullName;

    private string CaFile => Path.Combine(_folder, "ca.pem");

    public DatabaseUrlTlsTests() => File.WriteAllText(CaFile, "not parsed here");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("allow", SslMode.Allow)]
    [InlineData("prefer", SslMode.Prefer)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    [InlineData("Verify-Full", SslMode.VerifyFull)]
    public void UrlForm_EverySslMode_MapsToNpgsqlMode(string sslmode, SslMode expected) =>
        Assert.Equal(expected, Parse($"postgres://u:p@db.example.com/x?sslmode={sslmode}").SslMode);

    [Theory]
    [InlineData("Disable", SslMode.Disable)]
    [InlineData("Allow", SslMode.Allow)]
    [InlineData("Prefer", SslMode.Prefer)]
    [InlineData("Require", SslMode.Require)]
    [InlineData("VerifyCA", SslMode.VerifyCA)]
    [InlineData("VerifyFull", SslMode.VerifyFull)]
    public void KeywordForm_EverySslMode_MapsToNpgsqlMode(string sslmode, SslMode expected) =>
        Assert.Equal(expected, Parse($"Host=db.example.com;Username=u;Password=p;Database=x;SSL Mode={sslmode}").SslMode);

    [Fact]
    public void UrlForm_NoSslMode_IsPrefer()
    {
        // Npgsql's default, as libpq's: TLS when the server offers it, plain when it does not.
        Assert.Equal(SslMode.Prefer, Parse("postgres://u:p@db.example.com/x").SslMode);
    }

    [Theory]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    public void UrlForm_SslRootCert_BecomesRootCertificate(string sslmode, SslMode expected)
    {
        var b = Parse($"postgres://u:p@db.example.com/x?sslmode={sslmode}&sslrootcert={Uri.EscapeDataString(CaFile)}");
        Assert.Equal(CaFile, b.RootCertificate);
        Assert.Equal(expected, b.SslMode);
    }

    [Fact]
    public void UrlForm_SslRootCertBeforeSslMode_OrderDoesNotMatter()
    {
        // The folder's name has a space: the path is percent-decoded like every other part.
        var b = Parse($"postgres://u:p@db.example.com/x?sslrootcert={CaFile.Replace(" ", "%20", StringComparison.Ordinal)}&sslmode=verify-full");
        Assert.Equal(CaFile, b.RootCertificate);
        Assert.Equal(SslMode.VerifyFull, b.SslMode);
    }

    [Fact]
    public void KeywordForm_RootCertificate_Kept()
    {
        var b = Parse($"Host=db.example.com;Username=u;Database=x;SSL Mode=VerifyFull;Root Certificate={CaFile}");
        Assert.Equal(CaFile, b.RootCertificate);
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("allow")]
    [InlineData("prefer")]
    [InlineData("require")]
    public void UrlForm_SslRootCertBelowVerifyCa_RefusedNamingBoth(string sslmode)
    {
        var e = Refused($"postgres://u:p@db.example.com/x?sslmode={sslmode}&sslrootcert={Uri.EscapeDataString(CaFile)}");
        Assert.Contains("sslrootcert", e.Message, StringComparison.Ordinal);
        Assert.Contains(sslmode, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UrlForm_SslRootCertWithoutSslMode_Refused()
    {
        var e = Refused($"postgres://u:p@db.example.com/x?sslrootcert={Uri.EscapeDataString(CaFile)}");
        Assert.Contains("verify-full", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeywordForm_RootCertificateWithRequire_Refused() =>
        Assert.Contains("sslrootcert", Refused($"Host=h;Database=x;SSL Mode=Require;Root Certificate={CaFile}").Message, StringComparison.Ordinal);

    [Fact]
    public void UrlForm_SslRootCertMissing_RefusedNamingThePath()
    {
        var missing = Path.Combine(_folder, "absent.pem");
        var e = Refused($"postgres://u:p@db.example.com/x?sslmode=verify-full&sslrootcert={Uri.EscapeDataString(missing)}");
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeywordForm_RootCertificateMissing_RefusedNamingThePath()
    {
        var missing = Path.Combine(_folder, "absent.pem");
        Assert.Contains(missing, Refused($"Host=h;Database=x;SSL Mode=VerifyCA;Root Certificate={missing}").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UrlForm_SslRootCertEmpty_Refused() =>
        Assert.Contains("sslrootcert", Refused("postgres://u:p@h/x?sslmode=verify-full&sslrootcert=").Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("sometimes")]
    [InlineData("verify_full")]
    [InlineData("")]
    public void UrlForm_UnknownSslMode_RefusedListingTheModes(string sslmode)
    {
        var e = Refused($"postgres://u:p@h/x?sslmode={sslmode}");
        Assert.Contains("disable, allow, prefer, require, verify-ca, verify-full", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeywordForm_UnknownSslMode_Refused() =>
        Refused("Host=h;Database=x;SSL Mode=Sometimes");

    [Fact]
    public void UrlForm_EveryReservedCharacterEncoded_DecodedExactly()
    {
        // The TLS fixture's role (scripts/postgres.sh start-tls): '@', ':', '/', '%', '?', '#', '&', '+' and a space.
        var b = Parse("postgres://pulse%40tls:p%40ss%3Aw%2Frd%20%25%3F%23%26%2Bx@127.0.0.1:5432/pulse?sslmode=require");
        Assert.Equal("pulse@tls", b.Username);
        Assert.Equal("p@ss:w/rd %?#&+x", b.Password);
    }

    [Fact]
    public void UrlForm_PlusInPassword_StaysPlus()
    {
        // '+' means a space only in HTML form encoding, never in a URL's userinfo.
        Assert.Equal("a+b", Parse("postgres://u:a+b@h/x").Password);
    }

    [Fact]
    public void UrlForm_ColonInPasswordUnencoded_Kept()
    {
        // RFC 3986 §3.2.1: only the first ':' separates user from password.
        var b = Parse("postgres://u:a:b@h/x");
        Assert.Equal("u", b.Username);
        Assert.Equal("a:b", b.Password);
    }

    [Theory]
    [InlineData("postgres://u:pa#ss@h/x")]
    [InlineData("postgres://u:p@h/x#frag")]
    public void UrlForm_UnencodedHash_RefusedNamingPercent23(string url) =>
        Assert.Contains("%23", Refused(url).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://u:50%zz@h/x", "password")]
    [InlineData("postgres://u:50%@h/x", "password")]
    [InlineData("postgres://u:50%4@h/x", "password")]
    [InlineData("postgres://u%@h/x", "user")]
    [InlineData("postgres://u:p@h/x%2", "database")]
    public void UrlForm_StrayPercent_RefusedNamingThePart(string url, string part)
    {
        var e = Refused(url);
        Assert.Contains(part, e.Message, StringComparison.Ordinal);
        Assert.Contains("%25", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UrlForm_PercentEncodedPercent_DecodedOnce() =>
        Assert.Equal("50%zz", Parse("postgres://u:50%25zz@h/x").Password);

    [Fact]
    public void UrlForm_UnencodedAtInPassword_HostFollowsTheLastAt()
    {
        var b = Parse("postgres://u:p@ss@db.example.com/x");
        Assert.Equal("p@ss", b.Password);
        Assert.Equal("db.example.com", b.Host);
    }

    [Theory]
    [InlineData("postgres://u@h:0/x", "the port is not a number")]
    [InlineData("postgres://u@h:65536/x", "the port is not a number")]
    [InlineData("postgres://u@h:54x/x", "the port is not a number")]
    [InlineData("postgres://u@h:/x", "the port is not a number")]
    [InlineData("postgres://u@:5432/x", "no valid host")]
    [InlineData("postgres://::1/x", "no valid host")]
    [InlineData("postgres://[::1/x", "IPv6")]
    public void UrlForm_BadHostOrPort_RefusedSayingWhich(string url, string expected) =>
        Assert.Contains(expected, Refused(url).Message, StringComparison.Ordinal);

    [Fact]
    public void UrlForm_UnencodedSlashInPassword_RefusedWithoutQuotingThePassword()
    {
        // "Xq7Zs/cret" splits at the '/': host "u", "port" "Xq7Zs". The line goes to logs: it must not show it.
        var e = Refused("postgres://u:Xq7Zs/cret@h/x");
        Assert.Contains("%2F", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Xq7Zs", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://u@h:1/x", 1)]
    [InlineData("postgres://u@h:65535/x", 65535)]
    [InlineData("postgres://u@[::1]/x", 5432)]
    public void UrlForm_PortLimits_Accepted(string url, int port) =>
        Assert.Equal(port, Parse(url).Port);

    [Fact]
    public void UrlForm_UnknownParameter_ListsSslRootCert() =>
        Assert.Contains("sslrootcert", Refused("postgres://u@h/x?sslrootcrt=/ca.pem").Message, StringComparison.Ordinal);

    private static NpgsqlConnectionStringBuilder Parse(string url) =>
        new(DatabaseUrl.ToConnectionString(Load(url).Database.Url!, 10, 10));

    /// <summary>Loading the configuration refuses it with one line naming <c>Database:Url</c>.</summary>
    private static ConfigurationException Refused(string url)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(url));
        Assert.Equal("Database:Url", e.Key);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static PulseOptions Load(string url) =>
        PulseConfiguration.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string?> { ["DATABASE_URL"] = url });
}
