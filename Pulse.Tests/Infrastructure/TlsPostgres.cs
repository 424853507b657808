using System.Globalization;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL that runs as managed services do (<c>scripts/postgres.sh start-tls DIR</c>): <c>ssl = on</c>
/// with a self-signed certificate for localhost and 127.0.0.1, only <c>hostssl … scram-sha-256</c> in
/// pg_hba.conf, and a login role whose name and password need percent-encoding. One per test class
/// (<c>IClassFixture&lt;TlsPostgres&gt;</c>); the test owns it, not the test command. It is stopped and
/// removed at the end.
/// </summary>
/// <remarks>
/// Any connection that succeeds against it used TLS (there is no <c>host</c> line) and SCRAM (no other
/// method), and decoded the user and password right.
/// </remarks>
public sealed class TlsPostgres : IAsyncLifetime
{
    /// <summary>The cluster's folder (<c>ca.pem</c>, <c>wrong-ca.pem</c>, <c>data/</c>).</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"pulse-pg-tls-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The URL the script printed: <c>sslmode=verify-full</c> with <c>sslrootcert</c> = <see cref="CaFile"/>.</summary>
    public string Url { get; private set; } = string.Empty;

    public int Port { get; private set; }

    /// <summary>The server's certificate, its own CA.</summary>
    public string CaFile => Path.Combine(Folder, "ca.pem");

    /// <summary>Another self-signed certificate (same subject): verification against it must fail.</summary>
    public string WrongCaFile => Path.Combine(Folder, "wrong-ca.pem");

    /// <summary>The login role's name and password, decoded (from the URL, so the script stays their one source).</summary>
    public string User { get; private set; } = string.Empty;

    public string Password { get; private set; } = string.Empty;

    /// <summary><c>postgres://user:password@127.0.0.1:PORT/pulse</c>, encoded, without parameters.</summary>
    public string BaseUrl => Url[..Url.IndexOf('?', StringComparison.Ordinal)];

    public async Task InitializeAsync()
    {
        Url = (await PgTools.ScriptAsync("start-tls", Folder)).Trim();
        Port = int.Parse(File.ReadAllText(Path.Combine(Folder, "port")).Trim(), CultureInfo.InvariantCulture);
        var userInfo = new Uri(Url).UserInfo.Split(':', 2);
        User = Uri.UnescapeDataString(userInfo[0]);
        Password = Uri.UnescapeDataString(userInfo[1]);
    }

    public async Task DisposeAsync() =>
        await PgTools.ScriptAsync("stop", Folder);

    /// <summary><see cref="BaseUrl"/> with <paramref name="query"/> (e.g. <c>sslmode=require</c>).</summary>
    public string UrlWith(string query) => $"{BaseUrl}?{query}";

    /// <summary><c>pg_ctl stop -m fast</c>: the port then refuses connections.</summary>
    public Task StopAsync() => PgTools.PgCtlAsync(Folder, "-m", "fast", "-w", "stop");

    /// <summary>Starts it again with the same settings (they live in its postgresql.conf).</summary>
    public Task StartAsync() => PgTools.PgCtlAsync(Folder, "-l", Path.Combine(Folder, "postgres.log"), "-w", "-t", "30", "start");
}
