using System.Diagnostics;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL the tests run on: <c>PULSE_TEST_DATABASE_URL</c> when set (the test command sets
/// it), else a throwaway cluster started here with <c>scripts/postgres.sh</c> and removed at exit.
/// Tests never skip for want of a database: without one they fail, loudly.
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<string> LazyUrl = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A URL to the server's maintenance database (<c>postgres://user@host:port/db</c>).</summary>
    public static string Url => LazyUrl.Value;

    public static string RepositoryRoot => RepositoryPaths.Root;

    private static string Start()
    {
        var url = Environment.GetEnvironmentVariable("PULSE_TEST_DATABASE_URL");
        if (!string.IsNullOrEmpty(url))
        {
            return url;
        }

        var dir = Path.Combine(Path.GetTempPath(), $"pulse-tests-pg-{Environment.ProcessId}");
        var script = Path.Combine(RepositoryRoot, "scripts", "postgres.sh");
        var started = Run(script, "start", dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run(script, "stop", dir);
        return started.Trim();
    }

    private static string Run(string script, string verb, string dir)
    {
        var info = new ProcessStartInfo("bash", [script, verb, dir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"scripts/postgres.sh {verb} failed: {error}");
    }
}
