using System.Diagnostics;
using System.Net;
using Npgsql;
using Pulse.Tests.Cluster;
using Pulse.Tests.Infrastructure;

namespace Pulse.Tests.EndToEnd;

/// <summary>
/// <c>serve</c> on the TLS-only PostgreSQL: the pool and the LISTEN connection work over TLS at run time,
/// a refused login stops it before it listens, and a database down at start-up is waited for
/// (<c>/readyz</c> 503, then 200 once it is back), as during an outage (docs/operations.md).
/// </summary>
public sealed partial class TlsDatabaseTests
{
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Serve_VerifyFull_ReadyzGetJoinAndPostWorkOverTls()
    {
        var (eventId, keyword, key) = await SeedAsync();
        await using var server = await PulseProcess.StartAsync(postgres.Url, key);

        // 200 needs both the pool (SELECT 1) and the LISTEN connection, each over TLS.
        await ClusterKit.EventuallyAsync(async () => await ClusterKit.ReadyAsync(server) == HttpStatusCode.OK, Delivery, "/readyz 200 over TLS");
        using (var model = await server.Client.GetAsync(new Uri($"/v1/events/{eventId:D}", UriKind.Relative)))
        {
            var body = await model.Content.ReadAsStringAsync();
            Assert.True(model.StatusCode == HttpStatusCode.OK, $"GET the view model: {(int)model.StatusCode} {body}\n{server.Output}");
            Assert.Contains($"\"event_id\":\"{eventId:D}\"", body, StringComparison.Ordinal);
        }

        // A join answered from a computation on the pool, then a POST: NOTIFY on the pool, heard on the
        // LISTEN connection, recomputed and broadcast.
        await using var subscriber = await PhoenixClient.ConnectAndJoinAsync(server.WebSocketUri, $"event:{eventId:D}");
        Assert.Equal(0, subscriber.LatestTotal);
        await InsertEntryAsync(keyword);
        await ClusterKit.PostAsync(server, eventId);
        await subscriber.WaitForTotalAsync(1, Delivery);
        Assert.DoesNotContain("   at ", server.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wrong-password")]
    [InlineData("wrong-ca")]
    [InlineData("sslmode-disable")]
    public async Task Serve_LoginRefused_ExitsOneWithOneLineBeforeListening(string refusal)
    {
        var url = refusal switch
        {
            "wrong-password" => $"postgres://{Uri.EscapeDataString(postgres.User)}:wrong@127.0.0.1:{postgres.Port}/pulse?sslmode=verify-full&sslrootcert={postgres.CaFile}",
            "wrong-ca" => postgres.UrlWith($"sslmode=verify-full&sslrootcert={postgres.WrongCaFile}"),
            _ => postgres.UrlWith("sslmode=disable"),
        };
        int port = PulseProcess.FreePort();
        using var process = PulseProcess.Start(new Dictionary<string, string> { ["DATABASE_URL"] = url, ["PULSE_Urls"] = $"http://127.0.0.1:{port}" }, "serve");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        var line = FailureLine.Single(process.ExitCode, await stderr);
        Assert.StartsWith($"pulse: database \"pulse\" at 127.0.0.1:{postgres.Port}: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", await stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_DatabaseDownAtStart_Readyz503ThenRecoversWhenItIsBack()
    {
        var (eventId, _, key) = await SeedAsync();
        await postgres.StopAsync();
        try
        {
            var started = Stopwatch.StartNew();
            await using var server = await PulseProcess.StartAsync(postgres.Url, key);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"serve took {started.Elapsed} to answer /healthz with the database down");
            using (var ready = await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            // The one start-up line says what is wrong and that the node serves anyway.
            var warning = Assert.Single(server.Output.Split('\n'), l => l.StartsWith("pulse: database", StringComparison.Ordinal));
            Assert.Contains($"at 127.0.0.1:{postgres.Port}: cannot connect: Connection refused; serving anyway", warning, StringComparison.Ordinal);

            await postgres.StartAsync();
            await ClusterKit.EventuallyAsync(async () => await ClusterKit.ReadyAsync(server) == HttpStatusCode.OK, Delivery, "/readyz 200 once the database is back");
            using var model = await server.Client.GetAsync(new Uri($"/v1/events/{eventId:D}", UriKind.Relative));
            Assert.True(model.StatusCode == HttpStatusCode.OK, $"GET after recovery: {(int)model.StatusCode}\n{server.Output}");
            Assert.False(server.HasExited);
        }
        finally
        {
            if (!File.Exists(Path.Combine(postgres.Folder, "data", "postmaster.pid")))
            {
                await postgres.StartAsync();
            }
        }
    }

    /// <summary>The schema (by the binary), an event with one keyword, and a key (by the binary), all over TLS.</summary>
    private async Task<(Guid EventId, Guid Keyword, string Key)> SeedAsync()
    {
        var (code, _, stderr) = await RunAsync(postgres.Url, "migrate");
        Assert.True(code == 0, stderr);
        var (created, stdout, createErr) = await RunAsync(postgres.Url, "api-key", "create", "--name", "tls-serve");
        Assert.True(created == 0, createErr);
        var key = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

        await using var data = Data();
        var eventId = Guid.NewGuid();
        var keyword = Guid.NewGuid();
        var now = DateTime.UtcNow;
        await using (var insert = data.CreateCommand("INSERT INTO events (id, name, start_at, end_at) VALUES ($1, 'TLS vs plain', $2, $3)"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = eventId });
            insert.Parameters.Add(new NpgsqlParameter { Value = now.AddMinutes(-5) });
            insert.Parameters.Add(new NpgsqlParameter { Value = now.AddHours(1) });
            await insert.ExecuteNonQueryAsync();
        }

        await using (var insert = data.CreateCommand("INSERT INTO keywords (id, event_id, query, name) VALUES ($1, $2, 'TLS', '#tls')"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = keyword });
            insert.Parameters.Add(new NpgsqlParameter { Value = eventId });
            await insert.ExecuteNonQueryAsync();
        }

        return (eventId, keyword, key);
    }

    private async Task InsertEntryAsync(Guid keyword)
    {
        await using var data = Data();
        var now = DateTime.UtcNow;
        await using var insert = data.CreateCommand(
            "WITH e AS (INSERT INTO uniq_entries (hashtags, flat_text, kind, created_at) VALUES ('{}', 'tweet', 1, $2) RETURNING id) " +
            "INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at) SELECT id, $1, $2 FROM e");
        insert.Parameters.Add(new NpgsqlParameter { Value = keyword });
        insert.Parameters.Add(new NpgsqlParameter { Value = now });
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>The test's own client (full Npgsql, TLS verify-full), unpooled so a stopped server leaves nothing stale.</summary>
    private NpgsqlDataSource Data() =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(postgres.Url, 2, 30)) { Pooling = false }.ConnectionString);
}
