using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Pulse.Tests.Infrastructure;

/// <summary>
/// The published binary as a separate process: <c>PULSE_BINARY</c> (set by the test command, which
/// runs <c>./publish.sh</c> first). Without it the tests fail, loudly; for iterating on a machine
/// without a published binary, <c>PULSE_ALLOW_DLL=1</c> runs <c>dotnet Pulse/bin/Debug/net10.0/pulse.dll</c>.
/// </summary>
internal sealed class PulseProcess : IAsyncDisposable
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

    public HttpClient Client { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

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

    /// <summary>Runs <c>pulse serve</c> on a free loopback port and waits for <c>/healthz</c>.</summary>
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

    /// <summary>Runs a verb to completion (e.g. <c>migrate</c>); returns the exit code and the output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string[] args, string databaseUrl, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(args, databaseUrl, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Sends SIGTERM (as systemd does) and waits for the exit; returns the exit code and how long it took.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> StopAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!)
        {
            await kill.WaitForExitAsync();
        }

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

    /// <summary>The binary to run, or a clear failure.</summary>
    public static (string FileName, string[] Prefix) Binary()
    {
        var binary = Environment.GetEnvironmentVariable("PULSE_BINARY");
        if (!string.IsNullOrEmpty(binary))
        {
            return File.Exists(binary)
                ? (binary, [])
                : throw new InvalidOperationException($"PULSE_BINARY={binary} does not exist: run ./publish.sh (the test command does) before these tests.");
        }

        var dll = Path.Combine(PostgresServer.RepositoryRoot, "Pulse", "bin", "Debug", "net10.0", "pulse.dll");
        if (Environment.GetEnvironmentVariable("PULSE_ALLOW_DLL") == "1" && File.Exists(dll))
        {
            return ("dotnet", [dll]);
        }

        throw new InvalidOperationException("PULSE_BINARY is not set: these tests run the published AOT binary. Run ./publish.sh and set PULSE_BINARY=$PWD/dist/pulse (./test.sh does both); PULSE_ALLOW_DLL=1 runs the Debug build instead, for iterating only.");
    }

    private static ProcessStartInfo StartInfo(string[] args, string databaseUrl, IReadOnlyDictionary<string, string>? environment)
    {
        var (fileName, prefix) = Binary();
        var info = new ProcessStartInfo(fileName, [.. prefix, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DATABASE_URL"] = databaseUrl;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
