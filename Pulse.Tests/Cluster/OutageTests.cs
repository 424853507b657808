using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Npgsql;
using Pulse.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Pulse.Tests.Cluster;

/// <summary>
/// PostgreSQL restarted, then stopped for 10 s, under two nodes (docs/design.md §9, issue 5): sockets stay
/// open, cached reads keep working, <c>/readyz</c> says why not, and the numbers end exact.
/// Runs on a PostgreSQL cluster of its own, since it stops it.
/// </summary>
[Trait("Category", "binary")] public sealed class OutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task PostgresRestartedThenDownTenSeconds_SocketsStayOpen_PostDuringOutageEndsExact()
    {
        await using var postgres = await DedicatedPostgres.StartNewAsync();
        var (code, text) = await PulseProcess.RunAsync(["migrate"], postgres.Url);
        Assert.True(code == 0, text);
        await using var data = NpgsqlDataSource.Create(DatabaseUrl.ToConnectionString(postgres.Url, 2, 30) + ";Pooling=false");
        var key = await ApiKeyStore.CreateAsync(data, "outage", CancellationToken.None);
        var (eventId, keyword) = await CreateEventAsync(data);

        await using var a = await PulseProcess.StartAsync(postgres.Url, key);
        await using var b = await PulseProcess.StartAsync(postgres.Url, key);
        await using var onB = await PhoenixClient.ConnectAndJoinAsync(b.WebSocketUri, $"event:{eventId:D}");

        // Warm A: the key and the event are now known there without the database.
        await InsertEntryAsync(data, keyword);
        await ClusterKit.PostAsync(a, eventId);
        await onB.WaitForTotalAsync(1, Delivery);

        // 1. pg_ctl restart: both LISTEN connections die; a POST after it still arrives.
        await postgres.RestartAsync();
        await ClusterKit.EventuallyAsync(async () => await ClusterKit.ReadyAsync(a) == HttpStatusCode.OK && await ClusterKit.ReadyAsync(b) == HttpStatusCode.OK, Delivery, "both nodes ready after the restart");
        await InsertEntryAsync(data, keyword);
        await ClusterKit.PostAsync(a, eventId);
        await onB.WaitForTotalAsync(2, Delivery);

        // 2. A row the nodes were not told about yet, then the database goes away for 10 s.
        await InsertEntryAsync(data, keyword);
        await postgres.StopAsync();
        var down = Stopwatch.StartNew();
        await ClusterKit.EventuallyAsync(async () => await ClusterKit.ReadyAsync(a) == HttpStatusCode.ServiceUnavailable && await ClusterKit.ReadyAsync(b) == HttpStatusCode.ServiceUnavailable, Delivery, "/readyz 503 on both nodes");
        using (var ready = await b.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Contains("database", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await ClusterKit.PostAsync(a, eventId, "during-outage");
        using (var cached = await b.Client.GetAsync(new Uri($"/v1/events/{eventId:D}", UriKind.Relative)))
        {
            Assert.True(cached.StatusCode == HttpStatusCode.OK, $"GET during the outage: {(int)cached.StatusCode} {await cached.Content.ReadAsStringAsync()}\n{b.Output}");
        }

        await using (var late = await PhoenixClient.ConnectAndJoinAsync(b.WebSocketUri, $"event:{eventId:D}"))
        {
            Assert.Equal(2, late.LatestTotal);
        }

        await Task.Delay(TimeSpan.FromSeconds(10) - down.Elapsed);
        Assert.Equal(WebSocketState.Open, onB.State);
        Assert.False(a.HasExited || b.HasExited, "a node exited during the outage");
        Assert.Equal(2, onB.LatestTotal);

        // 3. Back: LISTEN re-established, the watched event recomputed, the held POST delivered.
        await postgres.StartAsync();
        long back = Stopwatch.GetTimestamp();
        long arrived = await onB.WaitForTotalAsync(3, Delivery);
        double recoveryMs = Stopwatch.GetElapsedTime(back, arrived).TotalMilliseconds;
        output.WriteLine($"PostgreSQL back -> exact numbers on the subscriber: {recoveryMs:F0} ms");
        Console.WriteLine($"[cluster] PostgreSQL back after 10 s -> exact numbers on a node-B subscriber: {recoveryMs:F0} ms");
        Assert.Equal(WebSocketState.Open, onB.State);
        Assert.Null(onB.CloseStatus);
        await ClusterKit.EventuallyAsync(async () => await ClusterKit.ReadyAsync(b) == HttpStatusCode.OK, Delivery, "node B ready again");

        // The outage logged a few lines, not one per tick per event (10 s × 2 ticks/s would be 20+).
        int computationErrors = CountLines(a.Output, "Computation of event");
        Assert.True(computationErrors <= 3, $"{computationErrors} computation error lines on A:\n{a.Output}");
    }

    private static int CountLines(string text, string marker) => text.Split('\n').Count(l => l.Contains(marker, StringComparison.Ordinal));

    private static async Task<(Guid EventId, Guid Keyword)> CreateEventAsync(NpgsqlDataSource data)
    {
        var eventId = Guid.NewGuid();
        var keyword = Guid.NewGuid();
        await using var batch = data.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO events (id, name, start_at, end_at) VALUES ($1, 'Outage cup', now() - interval '5 minutes', now() + interval '2 hours')") { Parameters = { new() { Value = eventId } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO keywords (id, event_id, query, name) VALUES ($1, $2, 'Home', '#home')") { Parameters = { new() { Value = keyword }, new() { Value = eventId } } });
        await batch.ExecuteNonQueryAsync();
        return (eventId, keyword);
    }

    private static async Task InsertEntryAsync(NpgsqlDataSource data, Guid keyword)
    {
        await using var command = data.CreateCommand(
            "WITH e AS (INSERT INTO uniq_entries (hashtags, flat_text, kind, created_at) VALUES ('{}', 'tweet', 1, now()) RETURNING id) INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT id, $1, now() FROM e");
        command.Parameters.Add(new NpgsqlParameter { Value = keyword });
        await command.ExecuteNonQueryAsync();
    }
}
