using System.Net;
using System.Net.Http.Headers;
using Pulse.Tests.Cluster;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Nginx;

/// <summary>
/// Two AOT nodes on one database behind a real nginx with <c>docs/nginx.conf</c> (through a <see cref="TcpTap"/>
/// per node that notes where each upgrade came on its connection): rounds of what a page does (plain requests,
/// then its socket joins and receives a broadcast), interleaved on the same nginx. Issue 10 measured 60 of 60
/// upgrades refused with 400 when /socket/ went through the keep-alive upstream.
/// </summary>
[Trait("Category", "binary")] public sealed class NginxTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private const int Rounds = 60;

    [Fact]
    public async Task KeepAliveUpstreamForSockets_SixtyRoundsOfRequestsThenAnUpgrade_EveryUpgradeSucceeds()
    {
        var run = await RunRoundsAsync("keepalive-sockets");

        Assert.True(run.Failures.Count == 0, $"not every round succeeded:\n{string.Join('\n', run.Failures)}");
        Assert.Equal(Rounds, run.Upgrades.Count);

        // Proof that this run exercised the server fix: nginx sent upgrades over connections that had already
        // carried plain requests (it takes them from its keepalive cache whenever one to the chosen node is idle).
        Assert.True(run.Reused >= Rounds / 4, $"only {run.Reused} of {Rounds} upgrades came after plain requests on their upstream connection");
        Assert.All(run.PerNode, n => Assert.True(n > 0, $"sockets per node: {string.Join(", ", run.PerNode)}"));
    }

    [Fact]
    public async Task DocumentedConfig_SixtyRoundsOfRequestsThenAnUpgrade_EverySocketIsTheFirstRequestOfItsConnection()
    {
        var run = await RunRoundsAsync("documented", probe: async http =>
        {
            // The probes location of the documented config is live: loopback is not in 10.0.0.0/8.
            using var metrics = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, metrics.StatusCode);
        });

        Assert.True(run.Failures.Count == 0, $"not every round succeeded:\n{string.Join('\n', run.Failures)}");
        Assert.Equal(Rounds, run.Upgrades.Count);
        Assert.Equal(0, run.Reused);
        Assert.All(run.PerNode, n => Assert.True(n > 0, $"sockets per node: {string.Join(", ", run.PerNode)}"));
    }

    private async Task<Run> RunRoundsAsync(string mode, Func<HttpClient, Task>? probe = null)
    {
        var (eventId, keyword) = await ClusterKit.CreateEventAsync(database);
        var key = await database.CreateApiKeyAsync();
        var environment = new Dictionary<string, string> { ["PULSE_Broadcast__TickMilliseconds"] = "50" };
        await using var a = await PulseProcess.StartAsync(database.Url, key, environment);
        await using var b = await PulseProcess.StartAsync(database.Url, key, environment);
        await using var tapA = new TcpTap(a.BaseAddress.Port);
        await using var tapB = new TcpTap(b.BaseAddress.Port);
        await using var nginx = await NginxProxy.StartAsync(mode, tapA.Port, tapB.Port);
        using var http = new HttpClient { BaseAddress = nginx.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (probe is not null)
        {
            await probe(http);
        }

        var sockets = new List<PhoenixClient>();
        var failures = new List<string>();
        int succeeded = 0;
        long total = 0; // the event is new: each round adds one entry
        try
        {
            for (int round = 0; round < Rounds; round++)
            {
                try
                {
                    // A page's plain requests (through the keep-alive upstream), then its socket.
                    await GetAsync(http, $"/events/{eventId}");
                    await GetAsync(http, $"/v1/events/{eventId}");
                    await GetAsync(http, "/v1/events?per_page=5");
                    var socket = await PhoenixClient.ConnectAndJoinAsync(nginx.WebSocketUri, $"event:{eventId:D}");
                    sockets.Add(socket);
                    await database.InsertEntryAsync(DateTime.UtcNow.AddSeconds(-1), keyword);
                    total++;
                    using var body = new StringContent($"{{\"topic\":\"event:{eventId:D}\",\"event\":\"round-{round}\",\"payload\":{{\"event_id\":\"{eventId:D}\"}}}}", Encoding.UTF8, "application/json");
                    using var posted = await http.PostAsync(new Uri("/v1/events", UriKind.Relative), body);
                    Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
                    await socket.WaitForTotalAsync(total, TimeSpan.FromSeconds(10));
                    succeeded++;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failures.Add($"round {round}: {e.GetType().Name}: {e.Message}");
                    if (failures.Count == 5 && round < Rounds - 1)
                    {
                        // A broken path fails every round, each after its timeouts: five say enough.
                        failures.Add($"rounds {round + 1} to {Rounds - 1} not run after 5 failures");
                        break;
                    }
                }
            }

            var upgrades = tapA.RequestsBeforeUpgrade().Concat(tapB.RequestsBeforeUpgrade()).ToList();
            var run = new Run(failures, upgrades, upgrades.Count(r => r > 0), [tapA.RequestsBeforeUpgrade().Count, tapB.RequestsBeforeUpgrade().Count]);
            output.WriteLine($"[nginx {mode}] {succeeded}/{Rounds} rounds succeeded (upgrade, join, broadcast); {run.Reused} came after plain requests on their upstream connection (requests before each: {string.Join(" ", upgrades)}); sockets per node: {string.Join(", ", run.PerNode)}");
            if (nginx.ErrorLog.Length > 0)
            {
                output.WriteLine("nginx error.log:\n" + nginx.ErrorLog);
            }

            return run;
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} through nginx answered {(int)response.StatusCode}");
    }

    private sealed record Run(List<string> Failures, List<int> Upgrades, int Reused, int[] PerNode);
}
