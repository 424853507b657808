using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Pulse.Demo;

/// <summary>
/// A PostgreSQL cluster in one folder (<c>data/</c>, <c>postgres.log</c>, the unix socket), on a free
/// port of 127.0.0.1, stopped and removed by <see cref="DisposeAsync"/> (kept with <c>--keep</c>).
/// As root the cluster belongs to the <c>postgres</c> user: initdb refuses to run as root.
/// </summary>
/// <remarks>
/// Lifecycle: construct, then <see cref="StartAsync"/> inside an <c>await using</c>, so a start that
/// fails halfway (initdb done, server up, database not yet created) is still stopped and removed.
/// </remarks>
internal sealed class ThrowawayPostgres(string binDir, string folder, bool keep, TextWriter output) : IAsyncDisposable
{
    // A unix socket path must fit sockaddr_un.sun_path: 108 bytes on Linux, 104 on macOS, with the
    // terminating NUL; ".s.PGSQL.65535" adds 15 to the folder. Past that, TCP only.
    private const int MaxSocketPath = 103;

    private readonly bool _asPostgres = Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();
    private bool _created;

    public string Folder { get; } = Path.GetFullPath(folder);

    private string DataDir => Path.Combine(Folder, "data");

    /// <summary>The database URL (<c>postgres://pulse@127.0.0.1:PORT/pulse</c>), set by <see cref="StartAsync"/>.</summary>
    public string Url { get; private set; } = string.Empty;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        bool reuse = await PrepareFolderAsync();
        if (_asPostgres)
        {
            await ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", Folder], asPostgres: false);
            if (!await ProcessRunner.SucceedsAsync("test", ["-w", Folder], asPostgres: true))
            {
                throw new DemoException($"the postgres user cannot write to {Folder} (a parent folder is not open to it, e.g. /root); run the demo from a folder it can reach, e.g. cd /tmp, or pass --data /tmp/pulse-demo");
            }
        }

        if (reuse)
        {
            output.WriteLine($"reusing the PostgreSQL cluster kept in {Folder}");
        }
        else
        {
            output.WriteLine($"creating a throwaway PostgreSQL cluster in {Folder} …");
            await RunPgAsync("initdb", ["-D", DataDir, "-U", "pulse", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], "initdb failed");
            File.AppendAllText(Path.Combine(DataDir, "postgresql.conf"), Settings());
        }

        cancellationToken.ThrowIfCancellationRequested();
        int port = FreePort();
        await RunPgAsync("pg_ctl", ["-D", DataDir, "-l", Path.Combine(Folder, "postgres.log"), "-w", "-t", "30", "-o", $"-p {port}", "start"], "PostgreSQL did not start");
        Url = string.Create(CultureInfo.InvariantCulture, $"postgres://pulse@127.0.0.1:{port}/pulse");
        await CreateDatabaseAsync(port, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_created && File.Exists(Path.Combine(DataDir, "postmaster.pid")))
        {
            // Fast: roll back open transactions and stop now; the data is throwaway anyway.
            if (!await ProcessRunner.SucceedsAsync(Path.Combine(binDir, "pg_ctl"), ["-D", DataDir, "-m", "fast", "-w", "-t", "20", "stop"], _asPostgres))
            {
                await ProcessRunner.SucceedsAsync(Path.Combine(binDir, "pg_ctl"), ["-D", DataDir, "-m", "immediate", "-w", "-t", "10", "stop"], _asPostgres);
            }
        }

        if (keep)
        {
            output.WriteLine($"kept {Folder} (--keep)");
        }
        else if (_created && Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    /// <summary>Creates the folder, or accepts one a previous demo left (<c>--keep</c>, or a crash); true when a cluster is there.</summary>
    private async Task<bool> PrepareFolderAsync()
    {
        _created = true;
        if (!Directory.Exists(Folder) || !Directory.EnumerateFileSystemEntries(Folder).Any())
        {
            Directory.CreateDirectory(Folder);
            return false;
        }

        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
        {
            // Never delete a folder that holds something else: --data may have been mistyped.
            _created = false;
            throw new DemoException($"{Folder} exists and is not a Pulse demo folder; remove it or pass --data DIR");
        }

        // A demo killed hard leaves its server running; stop it before starting on a new port.
        if (File.Exists(Path.Combine(DataDir, "postmaster.pid")))
        {
            await ProcessRunner.SucceedsAsync(Path.Combine(binDir, "pg_ctl"), ["-D", DataDir, "-m", "fast", "-w", "-t", "20", "stop"], _asPostgres);
        }

        return true;
    }

    private string Settings()
    {
        var socket = Folder.Length + 15 <= MaxSocketPath ? Folder.Replace("'", "''", StringComparison.Ordinal) : string.Empty;
        return $"""

            # pulse demo: local only, throwaway data (no fsync: nothing here must survive a crash)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{socket}'
            max_connections = 50
            fsync = off
            synchronous_commit = off
            full_page_writes = off

            """;
    }

    private async Task RunPgAsync(string program, IReadOnlyList<string> arguments, string failure)
    {
        var result = await ProcessRunner.RunAsync(Path.Combine(binDir, program), arguments, _asPostgres);
        if (result.ExitCode != 0)
        {
            var log = Path.Combine(Folder, "postgres.log");
            var tail = File.Exists(log) ? string.Join(Environment.NewLine, File.ReadLines(log).TakeLast(10)) : string.Empty;
            throw new DemoException($"{failure} ({program} exited with {result.ExitCode}):{Environment.NewLine}{result.Output.Trim()}{Environment.NewLine}{tail}".TrimEnd());
        }
    }

    private static async Task CreateDatabaseAsync(int port, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "pulse", Database = "postgres", Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'pulse')", connection);
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                await using var create = new NpgsqlCommand("CREATE DATABASE pulse", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch (Exception e) when (Storage.DatabaseFailure.Is(e))
        {
            // The cluster is up but does not take the login, or died right after pg_ctl said it started.
            throw Storage.DatabaseFailure.Describe(builder.ConnectionString, e);
        }
    }

    /// <summary>A port free now; another process could take it before PostgreSQL binds it, which then fails loudly.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
