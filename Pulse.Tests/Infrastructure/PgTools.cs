using System.Diagnostics;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// Runs <c>scripts/postgres.sh</c> and <c>pg_ctl</c> for the clusters a test owns (<see cref="DedicatedPostgres"/>,
/// <see cref="TlsPostgres"/>). As root, <c>pg_ctl</c> runs as the cluster's owner, <c>postgres</c>
/// (PostgreSQL refuses to run as root).
/// </summary>
internal static class PgTools
{
    /// <summary>The newest installed server's <c>bin</c> folder.</summary>
    public static string BinFolder { get; } = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).Order().Last();

    /// <summary><c>scripts/postgres.sh ARGS</c>; its standard output.</summary>
    public static Task<string> ScriptAsync(params string[] args) =>
        RunAsync("bash", [Path.Combine(PostgresServer.RepositoryRoot, "scripts", "postgres.sh"), .. args]);

    /// <summary><c>pg_ctl -D FOLDER/data ARGS</c>.</summary>
    public static Task<string> PgCtlAsync(string folder, params string[] args)
    {
        string[] pgCtl = [Path.Combine(BinFolder, "pg_ctl"), "-D", Path.Combine(folder, "data"), .. args];
        return Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", .. pgCtl]) : RunAsync(pgCtl[0], pgCtl[1..]);
    }

    private static async Task<string> RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0 ? await stdout : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
    }
}
