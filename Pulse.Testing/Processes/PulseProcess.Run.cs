using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pulse.Testing.Processes;

internal sealed partial class PulseProcess
{
    /// <summary>The AOT binary itself (for wrappers such as <c>prlimit</c>), or a clear failure.</summary>
    public static string BinaryPath
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("PULSE_BINARY");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                throw new InvalidOperationException($"PULSE_BINARY is '{path}': run ./publish.sh and set PULSE_BINARY=$PWD/dist/pulse (./test.sh does both)");
            }

            return path;
        }
    }

    /// <summary>Runs a verb to completion (e.g. <c>migrate</c>) on <paramref name="databaseUrl"/>; returns the exit code and stdout then stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string[] args, string databaseUrl, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (code, stdout, stderr) = await RunAsync(StartInfo(args, databaseUrl, environment));
        return (code, stdout + stderr);
    }

    /// <summary>Runs the binary to completion with exactly <paramref name="environment"/> added; at most 60 s.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IDictionary<string, string> environment, params string[] args) =>
        RunAsync(StartInfo(args, null, environment.AsReadOnly()));

    /// <summary>Starts the binary with <paramref name="environment"/> added and its output redirected; the caller owns the process.</summary>
    public static Process Start(IDictionary<string, string> environment, params string[] args) =>
        Process.Start(StartInfo(args, null, environment.AsReadOnly()))!;

    /// <summary>A loopback port free right now (the kernel's pick; released for the server to take).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends SIGTERM (what systemd and docker stop send).</summary>
    public static void Terminate(Process process)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Resident set size of a process in KiB, from /proc; -1 when it is gone.</summary>
    public static long RssKiBOf(int pid) => ProcessSample.Read(pid) is { } sample ? sample.RssBytes / 1024 : -1;

    // PULSE_BINARY, or with PULSE_ALLOW_DLL=1 the Debug build through dotnet.
    private static (string FileName, string[] Prefix) Binary()
    {
        var binary = Environment.GetEnvironmentVariable("PULSE_BINARY");
        if (!string.IsNullOrEmpty(binary))
        {
            return File.Exists(binary)
                ? (binary, [])
                : throw new InvalidOperationException($"PULSE_BINARY={binary} does not exist: run ./publish.sh (the test command does) before these tests.");
        }

        var dll = Path.Combine(RepositoryPaths.Root, "Pulse", "bin", "Debug", "net10.0", "pulse.dll");
        if (Environment.GetEnvironmentVariable("PULSE_ALLOW_DLL") == "1" && File.Exists(dll))
        {
            return ("dotnet", [dll]);
        }

        throw new InvalidOperationException("PULSE_BINARY is not set: these tests run the published AOT binary. Run ./publish.sh and set PULSE_BINARY=$PWD/dist/pulse (./test.sh does both); PULSE_ALLOW_DLL=1 runs the Debug build instead, for iterating only.");
    }

    private static ProcessStartInfo StartInfo(string[] args, string? databaseUrl, IReadOnlyDictionary<string, string>? environment)
    {
        var (fileName, prefix) = Binary();
        var info = new ProcessStartInfo(fileName, [.. prefix, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (databaseUrl is not null)
        {
            info.Environment["DATABASE_URL"] = databaseUrl;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo info)
    {
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
