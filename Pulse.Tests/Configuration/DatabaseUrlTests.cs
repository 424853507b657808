using Npgsql;

namespace Pulse.Tests.Configuration;

/// <summary><c>DATABASE_URL</c> in both forms (docs/design.md §3), through <see cref="PulseConfiguration.Load"/> as a user sets it.</summary>
[Trait("Category", "unit")] public sealed class DatabaseUrlTests
{
    [Fact]
    public void ToConnectionString_UrlForm_DecodesEveryPart()
    {
        var b = Parse("postgres://user:p%40ss@db.example.com:6543/battles?sslmode=require");
        Assert.Equal("db.example.com", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("user", b.Username);
        Assert.Equal("p@ss", b.Password);
        Assert.Equal("battles", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal("pulse", b.ApplicationName);
    }

    [Fact]
    public void ToConnectionString_EitherForm_NoResetOnClose()
    {
        // Seven reset statements per pooled use cost more than the one pg_notify of a POST.
        Assert.True(Parse("postgres://u@h/db").NoResetOnClose);
        Assert.True(Parse("Host=h;Username=u;Database=db").NoResetOnClose);
    }

    [Fact]
    public void ToConnectionString_PostgresqlScheme_Accepted()
    {
        var b = Parse("postgresql://u:secret@10.0.0.5:5433/x");
        Assert.Equal("10.0.0.5", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("secret", b.Password);
        Assert.Equal("x", b.Database);
    }

    [Fact]
    public void ToConnectionString_NoPort_DefaultsTo5432()
    {
        var b = Parse("postgres://u@localhost/x");
        Assert.Equal(5432, b.Port);
        Assert.Equal("u", b.Username);
        Assert.Null(b.Password);
    }

    [Fact]
    public void ToConnectionString_PasswordWithReservedCharacters_Decoded()
    {
        var b = Parse("postgres://u:a%3Ab%2Fc%25d%20e@h/x");
        Assert.Equal("a:b/c%d e", b.Password);
    }

    [Fact]
    public void ToConnectionString_Ipv6HostEncodedUserAndParameters_Decoded()
    {
        var b = Parse("postgres://us%40er@[::1]:6000/my%20db?sslmode=disable&application_name=worker&connect_timeout=7");
        Assert.Equal("::1", b.Host);
        Assert.Equal(6000, b.Port);
        Assert.Equal("us@er", b.Username);
        Assert.Equal("my db", b.Database);
        Assert.Equal(SslMode.Disable, b.SslMode);
        Assert.Equal("worker", b.ApplicationName);
        Assert.Equal(7, b.Timeout);
    }

    [Fact]
    public void Load_PoolSizeNotANumber_NamesPoolSizeOnOneLine()
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(new() { ["POOL_SIZE"] = "ten" }));
        Assert.Equal("Database:PoolSize", e.Key);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ToConnectionString_KeywordForm_Accepted()
    {
        var b = Parse("Host=pg.internal;Port=6000;Username=pulse;Password=s;Database=battles;SSL Mode=Require");
        Assert.Equal("pg.internal", b.Host);
        Assert.Equal(6000, b.Port);
        Assert.Equal("pulse", b.Username);
        Assert.Equal("battles", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
    }

    [Fact]
    public void Load_PoolSize_BecomesMaxPoolSize()
    {
        var options = Load(new() { ["DATABASE_URL"] = "postgres://u@h/x", ["POOL_SIZE"] = "7" });
        Assert.Equal(7, options.Database.PoolSize);
        var b = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(options.Database.Url!, options.Database.PoolSize, options.Database.CommandTimeoutSeconds));
        Assert.Equal(7, b.MaxPoolSize);
        Assert.Equal(10, b.CommandTimeout);
    }

    [Fact]
    public void Load_PulseDatabaseUrl_BeatsDatabaseUrl()
    {
        var options = Load(new() { ["DATABASE_URL"] = "postgres://u@legacy/x", ["PULSE_Database__Url"] = "postgres://u@explicit/x" });
        Assert.Equal("postgres://u@explicit/x", options.Database.Url);
    }

    [Fact]
    public void Load_DatabaseUrlFromEnvironment_CommandLineWins()
    {
        var options = PulseConfiguration.Load(null, new Dictionary<string, string?> { ["Database:Url"] = "postgres://u@cli/x" }, new Dictionary<string, string?> { ["DATABASE_URL"] = "postgres://u@env/x" });
        Assert.Equal("postgres://u@cli/x", options.Database.Url);
    }

    [Theory]
    [InlineData("Host=h;Bogus=1")]
    [InlineData("Database=x")]
    [InlineData("postgres://u@h/x?foo=1")]
    [InlineData("postgres://u@h/x?sslmode=sometimes")]
    [InlineData("postgres://u@h/x?connect_timeout=0")]
    [InlineData("postgres://")]
    public void Load_InvalidDatabaseUrl_NamesDatabaseUrl(string url)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(new() { ["DATABASE_URL"] = url }));
        Assert.Equal("Database:Url", e.Key);
        Assert.Contains("Database:Url", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static NpgsqlConnectionStringBuilder Parse(string url) =>
        new(DatabaseUrl.ToConnectionString(Load(new() { ["DATABASE_URL"] = url }).Database.Url!, 10, 10));

    private static PulseOptions Load(Dictionary<string, string?> environment) =>
        PulseConfiguration.Load(null, new Dictionary<string, string?>(), environment);
}
