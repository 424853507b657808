using System.Diagnostics;
using System.Text;

namespace Pulse.Demo;

/// <summary>Runs a short-lived program to completion, as the <c>postgres</c> user when asked (via <c>runuser</c>).</summary>
internal static class ProcessRunner
{
    /// <summary>Every program run here ends by itself (pg_ctl has -t); this is the backstop.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var info = asPostgres ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", program, .. arguments]) : new ProcessStartInfo(program, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;

        // Run from the root folder: as the postgres user the caller's folder may be unreadable.
        info.WorkingDirectory = "/";
        using var process = Process.Start(info) ?? throw new DemoException($"could not start {program}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new DemoException($"{program} did not finish within {Timeout.TotalSeconds} s");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    public static async Task<bool> SucceedsAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        try
        {
            return (await RunAsync(program, arguments, asPostgres)).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
