using System.Diagnostics;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// <c>pulse demo</c> whose own cluster does not take its login: a <c>--data</c> folder kept from an
/// earlier demo, whose pg_hba.conf was since changed to ask for passwords. One line, exit 1, and the
/// cluster the demo started is stopped again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "binary")] public sealed class DemoRefusedLoginTests
{
    [Fact]
    public async Task Demo_KeptClusterAsksForAPassword_OneLineExitOneClusterStopped()
    {
        var dir = Directory.CreateTempSubdirectory("pulse-demo-refused-");
        try
        {
            // As root the cluster belongs to the postgres user, which must reach and own the folder.
            File.SetUnixFileMode(dir.FullName, (UnixFileMode)0b111_101_101);
            var folder = Path.Combine(dir.FullName, "demo");
            var data = Path.Combine(folder, "data");
            Directory.CreateDirectory(folder);
            var passwordFile = Path.Combine(folder, "password");
            await File.WriteAllTextAsync(passwordFile, "only-the-admin-knows\n");
            bool root = Environment.UserName == "root";
            if (root)
            {
                await RunAsync("chown", "-R", "postgres:postgres", folder);
            }

            var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order().Last();
            string[] initdb = [Path.Combine(bin, "initdb"), "-D", data, "-U", "pulse", "-A", "scram-sha-256", "--pwfile", passwordFile, "-E", "UTF8", "--no-locale", "--no-sync"];
            await (root ? RunAsync("runuser", ["-u", "postgres", "--", .. initdb]) : RunAsync(initdb[0], initdb[1..]));
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n");

            var (code, stdout, stderr) = await PulseProcess.RunAsync(new Dictionary<string, string>(), "demo", "--data", folder, "--keep", "--urls", $"http://127.0.0.1:{PulseProcess.FreePort()}");
            var line = FailureLine.Single(code, stderr);
            Assert.Matches("^pulse demo: database \"postgres\" at 127\\.0\\.0\\.1:[0-9]+: .*password", line);
            Assert.Contains("reusing the PostgreSQL cluster", stdout, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "the demo left its PostgreSQL running");
        }
        finally
        {
            var pid = Path.Combine(dir.FullName, "demo", "data", "postmaster.pid");
            if (File.Exists(pid))
            {
                await RunAsync("kill", "-INT", (await File.ReadAllLinesAsync(pid))[0]);
            }

            dir.Delete(recursive: true);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {await stderr}{await stdout}");
    }
}
