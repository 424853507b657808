using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Pulse.Tests.Infrastructure;
using static Pulse.Tests.Http.Api;

namespace Pulse.Tests.Http;

/// <summary>API keys: only hashes at rest; a key created while the server runs works within a second; bad keys cost at most one read a second.</summary>
/// <remarks>Two nodes, revocation and outages: <c>Cluster/KeyRevocationTests</c>. That lookups compare digests, never keys, is checked in code review, not here: timing tests are flaky.</remarks>
[Trait("Category", "socket")] public sealed class ApiKeyTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task CreateApiKey_Stored_OnlyItsSha256()
    {
        var key = await database.CreateApiKeyAsync("hash check");
        Assert.Equal(43, key.Length);

        await using var command = database.DataSource.CreateCommand("SELECT to_jsonb(k)::text, key_hash FROM api_keys k WHERE name = 'hash check'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var row = reader.GetString(0);
        var hash = reader.GetFieldValue<byte[]>(1);
        Assert.DoesNotContain(key, row, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(key)), row, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), hash);
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Key_CreatedAfterStartAndAfterAMiss_WorksWithinOneSecond()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        // A failed lookup first: it re-reads the server's copy, and a miss may not re-read again for a
        // second, so the new key below is found by its INSERT's NOTIFY (migration 003), not by the miss.
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");
        using (var miss = await client.GetAsync(Path("/v1/events")))
        {
            await ErrorAsync(miss, HttpStatusCode.Unauthorized);
        }

        var key = await database.CreateApiKeyAsync("late");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var response = await client.GetAsync(Path("/v1/events"));
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(10);
            }
        }
        while (status != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(3));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Key_RevokedWhileListenConnectionDown_RefusedOnFirstUseAfterReconnect()
    {
        await using var server = await TestServer.StartAsync(database);
        using (var accepted = await server.Client.GetAsync(Path("/v1/events")))
        {
            await JsonAsync(accepted, HttpStatusCode.OK);
        }

        await server.Server.Keys.Copy.WhenIdle();
        long readsBefore = server.Server.Keys.Copy.Reads;

        // The revocation's NOTIFY goes nowhere while the node reconnects (its first retry waits 50-100 ms).
        Assert.Equal(1, await database.ScalarAsync<int>("SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pulse-listen' AND datname = current_database()) t"));
        await database.ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1", ApiKeyStore.Hash(server.ApiKey));

        // The key is not used meanwhile, so only the reconnect can cause a read (or the NOTIFY, had
        // LISTEN been back before the commit). A hit on a stale copy would answer 200 and read after.
        Assert.True(await Pipeline.PipelineKit.EventuallyAsync(() => server.Server.Keys.Copy.Reads > readsBefore, TimeSpan.FromSeconds(10)), "no read of the keys after the LISTEN connection came back");
        await server.Server.Keys.Copy.WhenIdle();
        using var refused = await server.Client.GetAsync(Path("/v1/events"));
        await ErrorAsync(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Key_RevokedAndItsNotifyLostWhileInUse_RefusedWithinTheBackstopSecond()
    {
        await using var server = await TestServer.StartAsync(database);

        // No trigger, no NOTIFY: as when the LISTEN connection is half-dead and nobody knows yet.
        await database.ExecuteAsync("ALTER TABLE api_keys DISABLE TRIGGER pulse_catalog_api_keys");
        try
        {
            await database.ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1", ApiKeyStore.Hash(server.ApiKey));
            var clock = Stopwatch.StartNew();
            HttpStatusCode status;
            do
            {
                using var response = await server.Client.GetAsync(Path("/v1/events"));
                status = response.StatusCode;
                await Task.Delay(10);
            }
            while (status == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5));

            // A copy at most a second old starts a re-read at the next hit; one more request may pass
            // meanwhile. The margin is for a loaded machine (1,529 ms seen with the whole suite running
            // beside): what fails here is a copy never re-read, which takes the 5 s of the loop.
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.True(clock.Elapsed < TableCopy<object>.BackstopInterval + TimeSpan.FromSeconds(1), $"took {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await database.ExecuteAsync("ALTER TABLE api_keys ENABLE TRIGGER pulse_catalog_api_keys");
        }
    }

    [Fact]
    public async Task Key_ThousandUnknownKeysWithinASecond_All401AndAtMostOneReadOfTheKeys()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        await server.Server.Keys.Copy.WhenIdle();
        long before = server.Server.Keys.Copy.Reads;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 1000; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Path("/v1/events"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // One re-read a second at most, whatever the number of keys; random keys are not remembered.
        long reads = server.Server.Keys.Copy.Reads - before;
        Assert.InRange(reads, 1, (long)Math.Ceiling(clock.Elapsed.TotalSeconds) + 1);
        Assert.Equal(0, server.Server.Keys.RememberedCount);
    }

    [Fact]
    public async Task Key_Over256Characters_RejectedWithoutAReadAt256ReadAsUnknown()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var copy = server.Server.Keys.Copy;
        foreach (var (length, reads) in new[] { (257, 0), (256, 1) })
        {
            // A miss may re-read once a second: wait for that, so a read would show.
            await copy.WhenIdle();
            await Task.Delay(TableCopy<object>.MissInterval + TimeSpan.FromMilliseconds(50));
            long before = copy.Reads;
            using var request = new HttpRequestMessage(HttpMethod.Get, Path("/v1/events"));
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('k', length));
            using var response = await client.SendAsync(request);
            await ErrorAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal(reads, copy.Reads - before);
        }
    }

    [Fact]
    public async Task Key_Revoked_Rejected()
    {
        var key = await database.CreateApiKeyAsync("revoked");
        await database.ExecuteAsync("UPDATE api_keys SET revoked_at = now() WHERE name = 'revoked'");
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.GetAsync(Path("/v1/events"));
        await ErrorAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Key_LowerCaseBearerScheme_Accepted()
    {
        await using var server = await TestServer.StartAsync(database);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "bearer " + server.ApiKey);
        using var response = await client.GetAsync(Path("/v1/events"));
        await JsonAsync(response, HttpStatusCode.OK);
    }
}
