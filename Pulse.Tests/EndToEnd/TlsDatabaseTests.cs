using System.Net;
using System.Net.Sockets;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// The AOT binary against a PostgreSQL that accepts only TLS and SCRAM, with a login that needs
/// percent-encoding (issue 10): every sslmode that tries TLS works for <c>migrate</c>, and every way the
/// database can refuse or be missing ends <c>migrate</c> and <c>api-key create</c> with one line naming
/// host, port, database and why, exit 1.
/// </summary>
[Trait("Category", "binary")] public sealed partial class TlsDatabaseTests(TlsPostgres postgres) : IClassFixture<TlsPostgres>
{
    [Theory]
    [InlineData("sslmode=allow")]        // plain first: pg_hba refuses it, then TLS
    [InlineData("sslmode=prefer")]
    [InlineData("sslmode=require")]
    [InlineData("sslmode=verify-ca&sslrootcert={ca}")]
    [InlineData("sslmode=verify-full&sslrootcert={ca}")]
    [InlineData("sslmode=Verify-Full&sslrootcert={ca}&connect_timeout=5&application_name=pulse-tls")]
    public async Task Migrate_UrlFormSslModeThatTriesTls_ExitsZero(string query)
    {
        var (code, stdout, stderr) = await RunAsync(postgres.UrlWith(query.Replace("{ca}", Uri.EscapeDataString(postgres.CaFile), StringComparison.Ordinal)), "migrate");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains("database trigger", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public async Task Migrate_VerifyFullByName_LocalhostMatchesTheCertificate()
    {
        // The certificate names DNS:localhost and IP:127.0.0.1; the URL the script prints uses the address.
        var url = postgres.UrlWith($"sslmode=verify-full&sslrootcert={postgres.CaFile}").Replace("@127.0.0.1:", "@localhost:", StringComparison.Ordinal);
        var (code, _, stderr) = await RunAsync(url, "migrate");
        Assert.True(code == 0, $"exit {code}: {stderr}");
    }

    [Theory]
    [InlineData("Require", false)]
    [InlineData("VerifyCA", true)]
    [InlineData("VerifyFull", true)]
    public async Task Migrate_KeywordForm_ExitsZero(string sslMode, bool rootCertificate)
    {
        var keywords = $"Host=127.0.0.1;Port={postgres.Port};Database=pulse;Username={postgres.User};Password='{postgres.Password}';SSL Mode={sslMode}"
            + (rootCertificate ? $";Root Certificate={postgres.CaFile}" : string.Empty);
        var (code, _, stderr) = await RunAsync(keywords, "migrate");
        Assert.True(code == 0, $"exit {code}: {stderr}");
    }

    [Fact]
    public async Task ApiKeyCreate_VerifyFull_PrintsTheKeyLast()
    {
        var (code, stdout, stderr) = await RunAsync(postgres.Url, "api-key", "create", "--name", "tls");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Matches("^[A-Za-z0-9_-]{40,}$", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1]);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("api-key")]
    public async Task Verb_VerifyFullWithWrongCa_OneLineNamingTheCaFile(string verb)
    {
        var line = await FailsAsync(postgres.UrlWith($"sslmode=verify-full&sslrootcert={postgres.WrongCaFile}"), verb);
        Assert.Contains("TLS: the server's certificate was rejected (sslmode=verify-full)", line, StringComparison.Ordinal);
        Assert.Contains(postgres.WrongCaFile, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_VerifyCaWithWrongCa_OneLineNamingVerifyCa()
    {
        var line = await FailsAsync(postgres.UrlWith($"sslmode=verify-ca&sslrootcert={postgres.WrongCaFile}"), "migrate");
        Assert.Contains("(sslmode=verify-ca)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_VerifyFullWithoutSslRootCert_OneLineSayingHowToGiveTheCa()
    {
        // A self-signed certificate is in no system store: the line says where the CA goes.
        var line = await FailsAsync(postgres.UrlWith("sslmode=verify-full"), "migrate");
        Assert.Contains("sslrootcert=FILE", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("api-key")]
    public async Task Verb_WrongPassword_OneLineWithTheServersMessage(string verb)
    {
        var url = $"postgres://{Uri.EscapeDataString(postgres.User)}:wrong@127.0.0.1:{postgres.Port}/pulse?sslmode=require";
        var line = await FailsAsync(url, verb);
        Assert.Contains($"password authentication failed for user \"{postgres.User}\" (SQLSTATE 28P01)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("api-key")]
    public async Task Verb_SslModeDisableAgainstHostsslOnly_OneLineWithThePgHbaRefusal(string verb)
    {
        var line = await FailsAsync(postgres.UrlWith("sslmode=disable"), verb);
        Assert.Contains("no pg_hba.conf entry", line, StringComparison.Ordinal);
        Assert.Contains("no encryption (SQLSTATE 28000)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("api-key")]
    public async Task Verb_UnreachablePort_OneLineConnectionRefused(string verb)
    {
        int port = PulseProcess.FreePort();
        var (code, _, stderr) = await RunAsync($"{postgres.BaseUrl.Replace($":{postgres.Port}/", $":{port}/", StringComparison.Ordinal)}?sslmode=require", Args(verb));
        var line = FailureLine.Single(code, stderr);
        Assert.Contains($"database \"pulse\" at 127.0.0.1:{port}: cannot connect: Connection refused", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_NoSuchDatabase_OneLineNamingIt()
    {
        var (code, _, stderr) = await RunAsync(postgres.UrlWith("sslmode=require").Replace("/pulse?", "/nodb?", StringComparison.Ordinal), "migrate");
        var line = FailureLine.Single(code, stderr);
        Assert.Contains($"database \"nodb\" at 127.0.0.1:{postgres.Port}: database \"nodb\" does not exist (SQLSTATE 3D000)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_ServerThatNeverAnswers_OneLineAfterConnectTimeout()
    {
        // Accepts TCP and then says nothing (a hung server, a proxy with no backend).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var (code, _, stderr) = await RunAsync($"postgres://u:p@127.0.0.1:{port}/pulse?sslmode=require&connect_timeout=1", "migrate");
        var line = FailureLine.Single(code, stderr);
        Assert.Contains($"database \"pulse\" at 127.0.0.1:{port}: no answer from the server in time (connect_timeout 1 s", line, StringComparison.Ordinal);
    }

    /// <summary>Runs the verb, asserts the one-line failure and that it names host, port and database; returns the line.</summary>
    private async Task<string> FailsAsync(string url, string verb)
    {
        var (code, stdout, stderr) = await RunAsync(url, Args(verb));
        var line = FailureLine.Single(code, stderr);
        Assert.StartsWith($"pulse: database \"pulse\" at 127.0.0.1:{postgres.Port}: ", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
        return line;
    }

    private static string[] Args(string verb) => verb == "api-key" ? ["api-key", "create", "--name", "tls"] : [verb];

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string url, params string[] args) =>
        PulseProcess.RunAsync(new Dictionary<string, string> { ["DATABASE_URL"] = url }, args);
}
