using System.Diagnostics;
using System.Globalization;
using System.Net;
using Pulse.Tests.Http;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// <c>/metrics</c> of the published binary as Prometheus reads it: <c>promtool check metrics</c> (the
/// exposition parser and its naming lint: _total on counters, base units, HELP on every family) finds
/// nothing, and the figures move with what the server did (a join, a POST, an open socket).
/// </summary>
[Trait("Category", "binary")] public sealed class MetricsPromtoolTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Metrics_AotBinaryAfterJoinAndPost_PromtoolFindsNoProblemAndFiguresMove()
    {
        var key = await database.CreateApiKeyAsync("promtool");
        var start = DateTime.UtcNow.AddMinutes(-5);
        var (eventId, keywords) = await database.CreateEventAsync("Promtool", start, start.AddHours(1), ("A", "#a"));
        await using var server = await PulseProcess.StartAsync(database.Url, key);
        await using var socket = await PhoenixClient.ConnectAsync(server.WebSocketUri);
        Assert.Equal("ok", (await socket.JoinAsync("event:" + eventId, timeout: TimeSpan.FromSeconds(10))).Status);
        await database.InsertEntryAsync(DateTime.UtcNow.AddSeconds(-1), keywords["#a"]);
        using (var posted = await server.Client.PostAsync(Api.Path("/v1/events"), Api.Json(Api.PostBody(eventId, "tweet"))))
        {
            Assert.Equal(HttpStatusCode.NoContent, posted.StatusCode);
        }

        // The POST is heard back over LISTEN and computed within a window (500 ms); wait for its broadcast.
        var text = await server.Client.GetStringAsync(Api.Path("/metrics"));
        for (var deadline = DateTime.UtcNow.AddSeconds(10); Value(text, "pulse_broadcast_frames_total") < 1 && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            text = await server.Client.GetStringAsync(Api.Path("/metrics"));
        }

        var (exitCode, output) = await PromtoolCheckAsync(text);
        Assert.True(exitCode == 0 && output.Length == 0, $"promtool check metrics exited {exitCode}:\n{output}\n--- /metrics:\n{text}");

        // Pulse's own figures (docs/design.md §6): this socket, its join, the POST, the computations it caused.
        Assert.Equal(1, Value(text, "pulse_connections"));
        Assert.Equal(1, Value(text, "pulse_channel_joins_total"));
        Assert.Equal(1, Value(text, "pulse_notifications_total"));
        Assert.True(Value(text, "pulse_computations_total") >= 2, "the join's computation and the POST's");
        Assert.Equal(Value(text, "pulse_computations_total"), Value(text, "pulse_computation_seconds_count"));
        Assert.True(Value(text, "pulse_broadcast_frames_total") >= 1);

        // The process, the runtime and Kestrel: present and plausible for a live server holding a socket.
        Assert.InRange(Value(text, "process_resident_memory_bytes"), 4 << 20, 1L << 32);
        Assert.True(Value(text, "process_cpu_seconds_total") > 0);
        Assert.True(Value(text, "process_open_fds") >= 3 + 2, "stdio, the listener and the socket at least");
        Assert.True(Value(text, "process_max_fds") >= Value(text, "process_open_fds"));
        Assert.True(Value(text, "dotnet_gc_heap_size_bytes") > 0);
        Assert.True(Value(text, "dotnet_thread_pool_threads") >= 1);
        Assert.True(Value(text, "kestrel_active_connections") >= 2, "the WebSocket and this HTTP connection");
        foreach (var name in new[] { "dotnet_gc_pause_seconds_total", "dotnet_gc_collections_total", "dotnet_gc_allocated_bytes_total", "dotnet_thread_pool_queue_length", "kestrel_queued_connections", "kestrel_rejected_connections_total" })
        {
            Assert.True(Value(text, name) >= 0, name);
        }
    }

    [Fact]
    public async Task Promtool_CounterWithoutTotalSuffix_Reported()
    {
        // The check above can fail: promtool's lint flags a counter named against the convention.
        var (exitCode, output) = await PromtoolCheckAsync("# HELP pulse_joins Joins.\n# TYPE pulse_joins counter\npulse_joins 1\n");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("_total", output, StringComparison.Ordinal);
    }

    /// <summary>The sample of <paramref name="name"/> (a line "name value"); fails when it is absent.</summary>
    private static double Value(string text, string name)
    {
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no sample of {name} in:\n{text}");
        return double.Parse(line![(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task<(int ExitCode, string Output)> PromtoolCheckAsync(string metrics)
    {
        var info = new ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process promtool;
        try
        {
            promtool = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("promtool is missing: run scripts/install-deps.sh (Debian package prometheus)", e);
        }

        using (promtool)
        {
            var stdout = promtool.StandardOutput.ReadToEndAsync();
            var stderr = promtool.StandardError.ReadToEndAsync();
            await promtool.StandardInput.WriteAsync(metrics);
            promtool.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await promtool.WaitForExitAsync(timeout.Token);
            return (promtool.ExitCode, (await stdout + await stderr).Trim());
        }
    }
}
