using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.EndToEnd;

/// <summary>The published binary, as an operator runs it: migrate, api-key create, serve, a GET with the key.</summary>
[Trait("Category", "binary")] public sealed class AotBinaryTests(TestDatabase database, ITestOutputHelper output) : IClassFixture<TestDatabase>
{
    private Dictionary<string, string> Environment => new() { ["DATABASE_URL"] = database.Url };

    [Fact]
    public async Task Help_ExitsZeroAndListsVerbs()
    {
        var (code, stdout, _) = await PulseProcess.RunAsync(Environment, "--help");
        Assert.Equal(0, code);
        Assert.Contains("migrate", stdout, StringComparison.Ordinal);
        Assert.Contains("api-key", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOption_ExitsTwoWithUsageOnStderr()
    {
        var (code, _, stderr) = await PulseProcess.RunAsync(Environment, "serve", "--no-such-option");
        Assert.Equal(2, code);
        Assert.Contains("no-such-option", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_TwiceInARowAndTwiceAtOnce_AllExitZero()
    {
        Assert.Equal(0, (await PulseProcess.RunAsync(Environment, "migrate")).ExitCode);
        Assert.Equal(0, (await PulseProcess.RunAsync(Environment, "migrate")).ExitCode);
        var both = await Task.WhenAll(PulseProcess.RunAsync(Environment, "migrate"), PulseProcess.RunAsync(Environment, "migrate"));
        Assert.All(both, r => Assert.Equal(0, r.ExitCode));
    }

    [Fact]
    public async Task InvalidConfiguration_ExitsTwoWithOneLineNamingTheKey()
    {
        var env = Environment;
        env["PULSE_Broadcast__TickMilliseconds"] = "0";
        var (code, _, stderr) = await PulseProcess.RunAsync(env, "serve");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Broadcast:TickMilliseconds", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateKeyServe_GetWithKey_ReturnsViewModel()
    {
        Assert.Equal(0, (await PulseProcess.RunAsync(Environment, "migrate")).ExitCode);
        var (code, stdout, _) = await PulseProcess.RunAsync(Environment, "api-key", "create", "--name", "e2e");
        Assert.Equal(0, code);
        var key = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        Assert.Equal(43, key.Length);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE name = $1 AND (key_hash = convert_to($2, 'UTF8') OR name = $2)", "e2e", key));

        var start = DateTime.UtcNow.AddMinutes(-10);
        var (eventId, keywords) = await database.CreateEventAsync("E2E", start, start.AddHours(2), ("A", "#a"), ("B", "#b"));
        await database.InsertEntryAsync(start.AddMinutes(1), keywords["#a"]);
        await database.InsertEntryAsync(start.AddMinutes(2), keywords["#a"], keywords["#b"]);

        int port = PulseProcess.FreePort();
        var started = Stopwatch.StartNew();
        using var server = PulseProcess.Start(Environment, "serve", "--urls", $"http://127.0.0.1:{port}");

        // Drained as it comes: a full pipe would block the server's logging.
        var serverOutput = server.StandardOutput.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitHealthyAsync(client, server);
            output.WriteLine($"start to /healthz 200: {started.ElapsedMilliseconds} ms; idle RSS {PulseProcess.RssKiBOf(server.Id)} KiB");

            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await client.GetAsync(new Uri($"/v1/events/{eventId}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(2, json.RootElement.GetProperty("total").GetInt32());
            var counts = json.RootElement.GetProperty("queries").EnumerateArray().Select(q => (q.GetProperty("query").GetString(), q.GetProperty("count").GetInt32())).ToArray();
            Assert.Equal([("A", 2), ("B", 1)], counts);
        }
        finally
        {
            PulseProcess.Terminate(server);
            await server.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }

        Assert.Equal(0, server.ExitCode);
    }

    internal static async Task WaitHealthyAsync(HttpClient client, Process server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
            {
                Assert.Fail($"pulse exited during start-up with {server.ExitCode}: {await server.StandardError.ReadToEndAsync()}");
            }

            try
            {
                using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(5);
        }

        Assert.Fail("pulse did not answer /healthz within 15 s");
    }
}
