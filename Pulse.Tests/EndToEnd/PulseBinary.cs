using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// The published Native AOT binary (<c>PULSE_BINARY</c>, set by <c>./test.sh</c> after <c>./publish.sh</c>).
/// Tests that need it fail, never skip, when it is missing.
/// </summary>
internal static class PulseBinary
{
    public static string Path
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("PULSE_BINARY");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                throw new InvalidOperationException($"PULSE_BINARY is '{path}': run ./publish.sh and set PULSE_BINARY=dist/pulse (./test.sh does both)");
            }

            return path;
        }
    }

    /// <summary>Runs the binary to completion.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public static Process Start(IDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Path, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends SIGTERM (what systemd and docker stop send).</summary>
    public static void Terminate(Process process)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Resident set size of a process in KiB, from /proc.</summary>
    public static long RssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status", Encoding.ASCII))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}
