using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Pulse.Tests.Demo;

/// <summary>
/// <c>pulse demo</c> end to end, as a user runs it: a child process in an empty folder, its printed
/// URL and key used over HTTP, then Ctrl-C (SIGINT) and a look for anything left behind.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Trait("Category", "socket")] public sealed partial class DemoTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Demo_RunThenSigint_ServesLiveBattleAndLeavesNothingRunning()
    {
        var dir = Directory.CreateTempSubdirectory("pulse-demo-test-");

        // As root the cluster runs as the postgres user, which must be able to reach the folder.
        File.SetUnixFileMode(dir.FullName, (UnixFileMode)0b111_101_101);
        var folder = Path.Combine(dir.FullName, ".pulse-demo");
        int port = FreePort();
        using var demo = StartDemo(dir.FullName, $"http://127.0.0.1:{port}");
        try
        {
            var printed = await demo.WaitForWelcomeAsync(StartTimeout);
            Assert.Equal($"http://127.0.0.1:{port}", printed.BaseUrl);
            Assert.True(Directory.Exists(folder), "the cluster lives in ./.pulse-demo");

            using var http = new HttpClient { BaseAddress = new Uri(printed.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
            var index = await http.GetStringAsync(new Uri("/", UriKind.Relative));
            Assert.Contains(WebUtility.HtmlEncode("Barça vs Madrid"), index, StringComparison.Ordinal);
            Assert.Contains("Liverpool vs Everton", index, StringComparison.Ordinal);
            Assert.Contains($"/events/{printed.EventId}", index, StringComparison.Ordinal);

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", printed.ApiKey);
            long first = await TotalAsync(http, printed.EventId);
            Assert.True(first > 0, "the battle has history");

            // The feed inserts every 200 ms and notifies; within a few seconds the total must grow.
            long latest = first;
            for (var watch = Stopwatch.StartNew(); latest == first && watch.Elapsed < TimeSpan.FromSeconds(10);)
            {
                await Task.Delay(500);
                latest = await TotalAsync(http, printed.EventId);
            }

            Assert.True(latest > first, $"the total stayed at {first}: the simulated feed does not reach Pulse");

            await SendSigintAsync(demo.Process.Id);
            using var exit = new CancellationTokenSource(ExitTimeout);
            await demo.Process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, demo.Process.ExitCode);
            Assert.False(Directory.Exists(folder), "the throwaway folder is removed on exit");
            Assert.Empty(ProcessesMentioning(folder));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}{Environment.NewLine}demo output:{Environment.NewLine}{demo.Output}", e);
        }
        finally
        {
            await demo.DisposeAsync();
            CleanUpAfterFailure(folder);
            dir.Delete(recursive: true);
        }
    }

    private static async Task<long> TotalAsync(HttpClient http, string eventId)
    {
        using var response = await http.GetAsync(new Uri($"/v1/events/{eventId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("total").GetInt64();
    }

    private static async Task SendSigintAsync(int pid)
    {
        // Process.Kill sends SIGKILL; Ctrl-C is SIGINT, which only /bin/kill (or libc) can send.
        using var kill = Process.Start("/bin/kill", ["-s", "INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Pids of processes whose command line contains <paramref name="text"/>, from /proc.</summary>
    private static List<int> ProcessesMentioning(string text)
    {
        var pids = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out int pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Contains(text, StringComparison.Ordinal))
                    {
                        pids.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // Exited while we looked.
                }
                catch (UnauthorizedAccessException)
                {
                    // Not ours to read.
                }
            }
        }

        return pids;
    }

    /// <summary>When an assertion failed midway, stop a PostgreSQL the demo left (SIGQUIT: immediate shutdown).</summary>
    private static void CleanUpAfterFailure(string folder)
    {
        foreach (var pid in ProcessesMentioning(folder))
        {
            using var kill = Process.Start("/bin/kill", ["-s", "QUIT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Live battle:\s+(?<base>http://\S+)/events/(?<id>[0-9a-f-]{36})")]
    private static partial Regex LiveBattleLine();

    [GeneratedRegex(@"API key:\s+(?<key>\S+)")]
    private static partial Regex ApiKeyLine();
}
