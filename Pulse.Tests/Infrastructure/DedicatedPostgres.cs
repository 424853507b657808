namespace Pulse.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own (<c>scripts/postgres.sh start DIR</c>), for tests that stop
/// and restart the server. <see cref="StopAsync"/>, <see cref="StartAsync"/> and <see cref="RestartAsync"/>
/// run <c>pg_ctl</c> as the cluster's owner with the options <c>scripts/postgres.sh</c> started it with.
/// </summary>
internal sealed class DedicatedPostgres : IAsyncDisposable
{
    private readonly string _dir;

    private DedicatedPostgres(string dir, string url)
    {
        _dir = dir;
        Url = url;
        Port = int.Parse(File.ReadAllText(Path.Combine(dir, "port")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>URL of its <c>pulse</c> database.</summary>
    public string Url { get; }

    public int Port { get; }

    /// <summary>The cluster's folder (<c>data/</c> with pg_hba.conf, <c>postgres.log</c>).</summary>
    public string Folder => _dir;

    public static async Task<DedicatedPostgres> StartNewAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pulse-pg-own-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var url = (await PgTools.ScriptAsync("start", dir)).Trim();
        return new DedicatedPostgres(dir, url);
    }

    /// <summary><c>pg_ctl stop -m fast</c>: connections are terminated, the port refuses.</summary>
    public Task StopAsync() => PgTools.PgCtlAsync(_dir, "-m", "fast", "-w", "stop");

    public Task StartAsync() => PgTools.PgCtlAsync(_dir, "-l", Path.Combine(_dir, "postgres.log"), "-w", "-t", "30", "-o", Options, "start");

    /// <summary><c>pg_ctl restart -m fast</c>, same options.</summary>
    public Task RestartAsync() => PgTools.PgCtlAsync(_dir, "-l", Path.Combine(_dir, "postgres.log"), "-m", "fast", "-w", "-t", "30", "-o", Options, "restart");

    public async ValueTask DisposeAsync() =>
        await PgTools.ScriptAsync("stop", _dir);

    // As in scripts/postgres.sh start.
    private string Options => $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements";
}
