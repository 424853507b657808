using System.Diagnostics;

namespace Pulse.Tests.Demo;

public sealed partial class DemoTests
{
    private sealed record Welcome(string BaseUrl, string EventId, string ApiKey);

    /// <summary>The demo child process and everything it printed so far.</summary>
    private sealed class DemoProcess(Process process) : IDisposable, IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource<Welcome> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private string? _eventLine;

        public Process Process => process;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public void OnLine(string? line)
        {
            if (line is null)
            {
                _welcome.TrySetException(new InvalidOperationException("the demo closed its output before printing the URL"));
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (LiveBattleLine().IsMatch(line))
            {
                _eventLine = line;
            }
            else if (_eventLine is not null && ApiKeyLine().Match(line) is { Success: true } key)
            {
                var m = LiveBattleLine().Match(_eventLine);
                _welcome.TrySetResult(new Welcome(m.Groups["base"].Value, m.Groups["id"].Value, key.Groups["key"].Value));
            }
        }

        public async Task<Welcome> WaitForWelcomeAsync(TimeSpan timeout) => await _welcome.Task.WaitAsync(timeout);

        public void Dispose() => process.Dispose();

        public async ValueTask DisposeAsync()
        {
            if (process.HasExited)
            {
                return;
            }

            // A failed test: SIGTERM first, so the demo still stops its PostgreSQL; SIGKILL as the last resort.
            using (var term = Process.Start("/bin/kill", ["-s", "TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                term?.WaitForExit();
            }

            using var wait = new CancellationTokenSource(ExitTimeout);
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static DemoProcess StartDemo(string workingDirectory, string urls)
    {
        // `env --default-signal=INT`: a process started from a background job inherits SIGINT as
        // ignored (and .NET then keeps it ignored); a terminal's Ctrl-C reaches a foreground process
        // with the default disposition, which is what this restores.
        var pulse = Path.Combine(AppContext.BaseDirectory, "pulse.dll");
        var info = new ProcessStartInfo("env", ["--default-signal=INT", "dotnet", pulse, "demo", "--urls", urls])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = info };
        var demo = new DemoProcess(process);
        process.OutputDataReceived += (_, e) => demo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) demo.OnLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return demo;
    }
}
