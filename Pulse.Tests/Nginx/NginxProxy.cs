using System.Diagnostics;
using System.Net.Sockets;
using Pulse.Tests.EndToEnd;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.Nginx;

/// <summary>
/// Debian's nginx (nginx-light, installed by <c>scripts/nginx.sh</c> when missing) with <c>docs/nginx.conf</c>: the
/// script writes the configuration (only node addresses, listen and certificate lines change), this starts
/// nginx in the foreground of its own process and stops it.
/// </summary>
internal sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NginxProxy(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/socket/websocket?vsn=2.0.0");

    /// <summary>What nginx logged (errors and warnings).</summary>
    public string ErrorLog => File.Exists(Path.Combine(_directory, "error.log")) ? File.ReadAllText(Path.Combine(_directory, "error.log")) : string.Empty;

    /// <param name="mode"><c>documented</c>, or <c>keepalive-sockets</c> (/socket/ through the keep-alive upstream).</param>
    public static async Task<NginxProxy> StartAsync(string mode, int nodeA, int nodeB)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"nginx-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        int port = PulseProcess.FreePort();
        var script = Path.Combine(PostgresServer.RepositoryRoot, "scripts", "nginx.sh");
        using (var config = Process.Start(new ProcessStartInfo("bash", [script, "config", directory, $"{port}", $"127.0.0.1:{nodeA}", $"127.0.0.1:{nodeB}", mode]) { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            var output = config.StandardOutput.ReadToEndAsync();
            var errors = config.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // may install nginx-light first
            await config.WaitForExitAsync(timeout.Token);
            if (config.ExitCode != 0)
            {
                throw new InvalidOperationException($"scripts/nginx.sh config failed ({config.ExitCode}): {await output}{await errors}");
            }
        }

        // Debian installs it in /usr/sbin, which a non-root PATH may lack.
        var nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
        var info = new ProcessStartInfo(nginx, ["-p", directory, "-e", Path.Combine(directory, "error.log"), "-c", Path.Combine(directory, "nginx.conf")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var proxy = new NginxProxy(Process.Start(info)!, directory, port);
        await proxy.WaitListeningAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // TERM: nginx's fast shutdown (QUIT would wait for every open WebSocket).
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-s", "TERM", $"{_process.Id}"]))!)
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task WaitListeningAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_process.ExitCode}: {ErrorLog}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"nginx not listening on {Port} after 10 s: {ErrorLog}");
    }
}
