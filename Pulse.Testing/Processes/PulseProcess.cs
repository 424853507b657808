using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Pulse.Testing.Processes;

/// <summary>
/// The published binary as a separate process: <c>PULSE_BINARY</c> (set by the test command, which runs
/// <c>./publish.sh</c> first). Without it the callers fail, loudly; for iterating on a machine without a
/// published binary, <c>PULSE_ALLOW_DLL=1</c> runs <c>dotnet Pulse/bin/Debug/net10.0/pulse.dll</c>.
/// </summary>
internal sealed partial class PulseProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PulseProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    /// <summary>Sends the API key given to <see cref="StartAsync"/>, if any.</summary>
    public HttpClient Client { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Resident set size in KiB, from /proc; -1 once the process is gone.</summary>
    public long RssKiB => RssKiBOf(Pid);

    /// <summary>
    /// VmRSS once the process has done what it was sent: two readings 500 ms apart that agree within
    /// 64 KiB (at most 10 s; then the last reading).
    /// </summary>
    public async Task<long> SettledRssKiBAsync()
    {
        long previous = RssKiB;
        for (int i = 0; i < 20; i++)
        {
            await Task.Delay(500);
            long current = RssKiB;
            if (Math.Abs(current - previous) <= 64)
            {
                return current;
            }

            previous = current;
        }

        return previous;
    }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
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

    public Uri WebSocketUri => new($"ws://{BaseAddress.Authority}/socket/websocket?vsn=2.0.0");

    /// <summary>
    /// Runs <c>pulse serve</c> on a free loopback port with <c>DATABASE_URL</c> = <paramref name="databaseUrl"/>
    /// and the options in <paramref name="environment"/> (<c>PULSE_Section__Key</c>), and waits for <c>/healthz</c>.
    /// </summary>
    public static async Task<PulseProcess> StartAsync(string databaseUrl, string? apiKey = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        int port = FreePort();
        var info = StartInfo(["serve"], databaseUrl, environment);
        info.Environment["PULSE_Urls"] = $"http://127.0.0.1:{port}";
        var process = new PulseProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}/"));
        process.Capture();
        if (apiKey is not null)
        {
            process.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        await process.WaitHealthyAsync(TimeSpan.FromSeconds(20));
        return process;
    }

    /// <summary>Sends SIGTERM (as systemd does) and waits for the exit; returns the exit code and how long it took.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> StopAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        Terminate(_process);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"pulse (pid {Pid}) did not exit within {timeout.TotalSeconds} s of SIGTERM. Output:\n{Output}");
        }

        return (_process.ExitCode, stopwatch.Elapsed);
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pulse exited with {_process.ExitCode} before /healthz answered. Output:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"pulse did not answer /healthz within {timeout.TotalSeconds} s. Output:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Capture()
    {
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
