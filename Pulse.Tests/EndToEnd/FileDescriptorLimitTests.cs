using System.Diagnostics;
using System.Globalization;
using Pulse.Tests.Infrastructure;
using Pulse.Tests.WebSockets;
using Xunit.Abstractions;

namespace Pulse.Tests.EndToEnd;

/// <summary>docs/design.md §10 (idle sockets): near the file-descriptor limit new upgrades get 503, and nothing else suffers.</summary>
[Trait("Category", "binary")] public sealed class FileDescriptorLimitTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    // prlimit sets soft = hard = 400, so the binary's raise at start changes nothing and the limit is 400.
    // The transport counts connections (each one descriptor), not every descriptor: an upgrade is refused
    // when open connections, the new one included, reach Limit − Reserve = 400 − 64 = 336. Open at that
    // moment: the held WebSockets, the keep-alive /healthz connection and the new one, so 336 − 2 = 334
    // sockets are held. The reserve must cover everything else the process holds (listener, epoll,
    // PostgreSQL pool, pipes): that baseline is printed and checked to fit.
    private const int Limit = 400;
    private const int Reserve = 64;
    private const int ExpectedHeld = Limit - Reserve - 2;

    [Fact]
    public async Task LowNofileLimit_UpgradesUntil503_HeldSocketsLiveHealthzAnswersAndClosingFreesRoom()
    {
        var start = DateTime.UtcNow.AddMinutes(-10);
        var (eventId, _) = await database.CreateEventAsync("Fd", start, start.AddHours(2), ("A", "#a"));
        string topic = $"event:{eventId}";
        int port = PulseProcess.FreePort();
        using var server = StartUnderLimit(port);
        var logs = Task.WhenAll(server.StandardOutput.ReadToEndAsync(), server.StandardError.ReadToEndAsync());
        var held = new List<RawClient>();
        try
        {
            // Once it answers, prlimit has long exec'd into pulse: the limits read are the server's own.
            using var keepAlive = await HealthyKeepAliveAsync(port, server);
            Assert.Contains($"Max open files            {Limit}                  {Limit}", await File.ReadAllTextAsync($"/proc/{server.Id}/limits"), StringComparison.Ordinal);

            // Bounded: 334 expected, at most Limit attempts.
            string? refusal = null;
            while (refusal is null && held.Count < Limit)
            {
                var (peer, response) = await UpgradeAndJoinAsync(port, topic);
                if (peer is null)
                {
                    refusal = response;
                }
                else
                {
                    held.Add(peer);
                }
            }

            int descriptors = Directory.GetFiles($"/proc/{server.Id}/fd").Length;
            output.WriteLine($"held {held.Count} sockets; the process has {descriptors} descriptors open, so a baseline of {descriptors - held.Count} besides the sockets");
            Assert.StartsWith("HTTP/1.1 503", refusal, StringComparison.Ordinal);
            Assert.Contains("server at capacity", refusal, StringComparison.Ordinal);
            Assert.InRange(held.Count, ExpectedHeld - 4, ExpectedHeld);
            Assert.True(descriptors < Limit, $"{descriptors} descriptors: the reserve did not cover the baseline");

            // Further attempts: 503 each time, never a reset (accept still has the reserve to work with).
            for (int i = 0; i < 20; i++)
            {
                var (extra, response) = await UpgradeAndJoinAsync(port, topic);
                extra?.Dispose();
                Assert.StartsWith("HTTP/1.1 503", response, StringComparison.Ordinal);
            }

            // Every held socket is still served.
            for (int i = 0; i < held.Count; i++)
            {
                await held[i].SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[null,\"h{i}\",\"phoenix\",\"heartbeat\",{{}}]")));
                var (_, reply) = await held[i].ReadFrameAsync();
                Assert.Equal($"[null,\"h{i}\",\"phoenix\",\"phx_reply\",{{\"status\":\"ok\",\"response\":{{}}}}]", Encoding.UTF8.GetString(reply));
            }

            // HTTP at the limit: on the connection opened before, and on a new one (the 503 is for upgrades
            // only; the reserve leaves descriptors for accept, so a new TCP connection is not refused).
            await keepAlive.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await keepAlive.ReadResponseAsync(), StringComparison.Ordinal);
            using (var fresh = await RawClient.ConnectAsync(port))
            {
                await fresh.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200", await fresh.ReadResponseAsync(), StringComparison.Ordinal);
            }

            Assert.False(server.HasExited, "the server died at the limit");

            // Closing ten held sockets makes room: an upgrade succeeds again once the server has seen them go.
            foreach (var peer in held.Take(10))
            {
                peer.Dispose();
            }

            held.RemoveRange(0, 10);
            string lastResponse = string.Empty;
            for (int attempt = 0; attempt < 50 && !lastResponse.StartsWith("HTTP/1.1 101", StringComparison.Ordinal); attempt++)
            {
                await Task.Delay(100);
                var (peer, response) = await UpgradeAndJoinAsync(port, topic);
                lastResponse = response;
                if (peer is not null)
                {
                    held.Add(peer);
                }
            }

            Assert.StartsWith("HTTP/1.1 101", lastResponse, StringComparison.Ordinal);
            Assert.False(server.HasExited, "the server died");
        }
        finally
        {
            held.ForEach(p => p.Dispose());
            if (!server.HasExited)
            {
                server.Kill();
            }

            await server.WaitForExitAsync();
            await logs;
        }
    }

    [Fact]
    public async Task LowNofileLimit_FloodOfIdleConnections_NewestClosedAtHalfTheReserveNoSpinAndRecovers()
    {
        // Connections that never send a byte stay counted (10 s in the middleware, then Kestrel's keep-alive
        // timeout). Were the descriptors to run out, accept() would fail with EMFILE and Kestrel would retry
        // at once, spinning a core. At Limit − Reserve / 2 = 368 open connections the newest is closed.
        const int flood = 420;
        int port = PulseProcess.FreePort();
        using var server = StartUnderLimit(port);
        var logs = Task.WhenAll(server.StandardOutput.ReadToEndAsync(), server.StandardError.ReadToEndAsync());
        var idle = new List<System.Net.Sockets.TcpClient>();
        try
        {
            using var keepAlive = await HealthyKeepAliveAsync(port, server);
            int resetAtConnect = 0;
            for (int i = 0; i < flood; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                idle.Add(client);
                try
                {
                    await client.ConnectAsync("127.0.0.1", port); // completes from the backlog even when not accepted
                }
                catch (System.Net.Sockets.SocketException)
                {
                    resetAtConnect++; // shed (aborted) before the connect's completion was observed
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            long cpuBefore = CpuTicks(server.Id);
            await Task.Delay(TimeSpan.FromSeconds(2));
            long cpu = CpuTicks(server.Id) - cpuBefore;
            int descriptors = Directory.GetFiles($"/proc/{server.Id}/fd").Length;
            int shed = resetAtConnect + idle.Count(c => c.Connected && c.Client.Poll(0, System.Net.Sockets.SelectMode.SelectRead) && c.Client.Available == 0);
            output.WriteLine($"{flood} idle connections: {shed} closed by the server, {descriptors} descriptors open, {cpu} CPU ticks (1/100 s) in 2 s");

            Assert.True(cpu < 40, $"the server used {cpu} ticks of CPU in 2 s while idle connections filled its descriptors");
            Assert.True(descriptors < Limit, $"{descriptors} descriptors open: the limit was reached");
            Assert.InRange(shed, flood - (Limit - (Reserve / 2) - 2) - 4, flood - (Limit - (Reserve / 2) - 2));
            await keepAlive.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await keepAlive.ReadResponseAsync(), StringComparison.Ordinal);

            idle.ForEach(c => c.Dispose());
            idle.Clear();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            using var fresh = await RawClient.ConnectAsync(port);
            await fresh.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await fresh.ReadResponseAsync(), StringComparison.Ordinal);
            Assert.False(server.HasExited, "the server died");
        }
        finally
        {
            idle.ForEach(c => c.Dispose());
            if (!server.HasExited)
            {
                server.Kill();
            }

            await server.WaitForExitAsync();
            await logs;
        }
    }

    /// <summary>utime + stime of a process, in clock ticks (USER_HZ, 100 a second on Linux), from /proc.</summary>
    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private Process StartUnderLimit(int port)
    {
        // prlimit (util-linux) sets the limit, then execs the binary: same pid, so /proc/<pid> is the server's.
        var info = new ProcessStartInfo("prlimit", [$"--nofile={Limit}:{Limit}", "--", PulseProcess.BinaryPath, "serve", "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DATABASE_URL"] = database.Url;
        info.Environment["PULSE_WebSocket__FileDescriptorReserve"] = Reserve.ToString(CultureInfo.InvariantCulture);
        return Process.Start(info)!;
    }

    /// <summary>Waits (bounded) for the server, then returns a connection that got a /healthz 200 and stays open.</summary>
    private static async Task<RawClient> HealthyKeepAliveAsync(int port, Process server)
    {
        for (int attempt = 0; attempt < 100 && !server.HasExited; attempt++)
        {
            try
            {
                var peer = await RawClient.ConnectAsync(port);
                await peer.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
                if ((await peer.ReadResponseAsync()).StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
                {
                    return peer;
                }

                peer.Dispose();
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("the server never answered /healthz");
    }

    /// <summary>Upgrades and joins; the peer when it was accepted (101 and join ok), else null and the refusal.</summary>
    private static async Task<(RawClient? Peer, string Response)> UpgradeAndJoinAsync(int port, string topic)
    {
        var peer = await RawClient.ConnectAsync(port);
        await peer.SendAsync(RawClient.UpgradeRequest());
        var response = await peer.ReadResponseAsync();
        if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            peer.Dispose();
            return (null, response);
        }

        await peer.SendAsync(ClientFrames.Build(0x81, Encoding.UTF8.GetBytes($"[\"1\",\"1\",\"{topic}\",\"phx_join\",{{}}]")));
        var (_, reply) = await peer.ReadFrameAsync();
        Assert.Contains("\"status\":\"ok\"", Encoding.UTF8.GetString(reply), StringComparison.Ordinal);
        return (peer, response);
    }
}
